/*
 * The worker is written against libsrtp 3.0 (versatica's beta), we build
 * libsrtp 2.7.0. A handful of 3.0 names exist in 2.7 with other signatures
 * (in-place int* lengths, srtp_policy_t as a public struct instead of an
 * opaque handle). This header is force-included (-include) into every 2.7
 * source file and included by our headers before 2.7's srtp.h, so the 2.7
 * versions get an srtp2_ prefix and the plain names are free for the 3.0
 * adapter (srtp3_adapter.c). Everything else keeps its 2.7 name and ABI.
 */
#ifndef VITRINE_SRTP2_RENAMES_H
#define VITRINE_SRTP2_RENAMES_H

#define srtp_policy_t srtp2_policy_t
#define srtp_create srtp2_create
#define srtp_protect srtp2_protect
#define srtp_unprotect srtp2_unprotect
#define srtp_protect_rtcp srtp2_protect_rtcp
#define srtp_unprotect_rtcp srtp2_unprotect_rtcp

#endif
