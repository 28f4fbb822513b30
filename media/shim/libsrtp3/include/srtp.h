/*
 * <srtp.h> as the mediasoup worker sees it: the subset of the libsrtp 3.0 API
 * that the worker calls (src/DepLibSRTP.cpp, src/RTC/SrtpSession.cpp,
 * include/RTC/SrtpSession.hpp), implemented in ../src/srtp3_adapter.c over
 * libsrtp 2.7.0. Types, constants and the calls whose signature did not change
 * come straight from 2.7's own srtp.h, included below with the conflicting
 * names moved aside (see srtp2_renames.h).
 */
#ifndef VITRINE_SRTP3_SHIM_H
#define VITRINE_SRTP3_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/srtp2_renames.h"
#include "../upstream/include/srtp.h"

#undef srtp_policy_t
#undef srtp_create
#undef srtp_protect
#undef srtp_unprotect
#undef srtp_protect_rtcp
#undef srtp_unprotect_rtcp

#ifdef __cplusplus
extern "C" {
#endif

/* 3.0 error codes missing from 2.7's enum (which ends at 27). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

/* 3.0: a policy is an opaque handle built with the setters below. */
typedef struct vitrine_srtp3_policy *srtp_policy_t;

srtp_err_status_t srtp_policy_create(srtp_policy_t *policy);
void srtp_policy_destroy(srtp_policy_t policy);
srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy,
                                          srtp_profile_t profile);
/* Only one key, without MKI (mki == NULL, mki_len == 0), is supported. */
srtp_err_status_t srtp_policy_add_key(srtp_policy_t policy,
                                      const uint8_t *key,
                                      size_t key_len,
                                      const uint8_t *salt,
                                      size_t salt_len,
                                      const uint8_t *mki,
                                      size_t mki_len);
srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy,
                                                  bool allow);
srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy,
                                              size_t window_size);

srtp_err_status_t srtp_create(srtp_t *session, const srtp_policy_t policy);

/* 3.0 name of 2.7's srtp_remove_stream(); ssrc in network byte order. */
srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc);

/*
 * 3.0 packet calls: separate input and output buffers (they may be the same
 * buffer), size_t lengths; *out_len is the capacity of out on entry and the
 * packet length on success. mki_index must be 0 (no MKI).
 */
srtp_err_status_t srtp_protect(srtp_t ctx,
                               const uint8_t *rtp,
                               size_t rtp_len,
                               uint8_t *srtp,
                               size_t *srtp_len,
                               size_t mki_index);
srtp_err_status_t srtp_unprotect(srtp_t ctx,
                                 const uint8_t *srtp,
                                 size_t srtp_len,
                                 uint8_t *rtp,
                                 size_t *rtp_len);
srtp_err_status_t srtp_protect_rtcp(srtp_t ctx,
                                    const uint8_t *rtcp,
                                    size_t rtcp_len,
                                    uint8_t *srtcp,
                                    size_t *srtcp_len,
                                    size_t mki_index);
srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx,
                                      const uint8_t *srtcp,
                                      size_t srtcp_len,
                                      uint8_t *rtcp,
                                      size_t *rtcp_len);

#ifdef __cplusplus
}
#endif

#endif
