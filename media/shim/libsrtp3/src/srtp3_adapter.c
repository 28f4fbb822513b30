/*
 * libsrtp 3.0 API subset (see ../include/srtp.h) over libsrtp 2.7.0.
 *
 * Each 3.0 call does what the 2.7 call of the same purpose does; the only
 * logic of our own is building a 2.7 policy struct from the setters, and
 * copying/length-checking buffers around 2.7's in-place packet calls.
 * Security-relevant: keep this as small as the worker's needs.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h> /* OPENSSL_cleanse */

#include "../include/srtp.h" /* ours: 3.0 names, plus 2.7 as srtp2_* */

struct vitrine_srtp3_policy {
    srtp2_policy_t p;               /* what 2.7's srtp_create() takes */
    srtp_profile_t profile;         /* srtp_profile_reserved until set */
    uint8_t key[SRTP_MAX_KEY_LEN];  /* master key then salt, as 2.7 wants */
    bool has_key;
};

srtp_err_status_t srtp_policy_create(srtp_policy_t *policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    /* calloc: every 2.7 field we do not set (keys, enc_xtn_hdr, next...) is
     * NULL/0, which 2.7 reads as "not used"; ssrc type is ssrc_undefined. */
    *policy = calloc(1, sizeof(**policy));
    return *policy ? srtp_err_status_ok : srtp_err_status_alloc_fail;
}

void srtp_policy_destroy(srtp_policy_t policy)
{
    if (policy == NULL)
        return;
    OPENSSL_cleanse(policy->key, sizeof(policy->key));
    free(policy);
}

srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->p.ssrc = ssrc;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy,
                                          srtp_profile_t profile)
{
    srtp_err_status_t err;

    if (policy == NULL || policy->has_key)
        return srtp_err_status_bad_param;
    err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp,
                                                       profile);
    if (err != srtp_err_status_ok)
        return err;
    policy->profile = profile;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_add_key(srtp_policy_t policy,
                                      const uint8_t *key,
                                      size_t key_len,
                                      const uint8_t *salt,
                                      size_t salt_len,
                                      const uint8_t *mki,
                                      size_t mki_len)
{
    /* The profile fixes the lengths, so it must be set first; one key only,
     * and no MKI (2.7 would need its separate master-key list for that). */
    if (policy == NULL || policy->profile == srtp_profile_reserved ||
        policy->has_key || key == NULL || salt == NULL || mki != NULL ||
        mki_len != 0)
        return srtp_err_status_bad_param;
    if (key_len != srtp_profile_get_master_key_length(policy->profile) ||
        salt_len != srtp_profile_get_master_salt_length(policy->profile) ||
        key_len + salt_len > sizeof(policy->key))
        return srtp_err_status_bad_param;

    memcpy(policy->key, key, key_len);
    memcpy(policy->key + key_len, salt, salt_len);
    policy->p.key = policy->key;
    policy->has_key = true;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy,
                                                  bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->p.allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy,
                                              size_t window_size)
{
    /* 2.7 checks the range (0 = default, else 64..0x7fff) in srtp_create. */
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->p.window_size = (unsigned long)window_size;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_create(srtp_t *session, const srtp_policy_t policy)
{
    /* 2.7 derives and copies all key material into the session, so the
     * caller may destroy the policy right after (as the worker does). */
    if (policy != NULL && !policy->has_key)
        return srtp_err_status_bad_param;
    return srtp2_create(session, policy ? &policy->p : NULL);
}

srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
    return srtp_remove_stream(session, ssrc);
}

/* 2.7's packet calls work in place on an int length: copy the input into the
 * output buffer (unless it already is the same buffer), check the output can
 * hold the result and the length fits an int, then call 2.7 in place. */
static srtp_err_status_t in_place(const uint8_t *in,
                                  size_t in_len,
                                  uint8_t *out,
                                  size_t *out_len,
                                  size_t max_growth,
                                  int *len)
{
    if (in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > (size_t)INT_MAX - max_growth)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + max_growth)
        return srtp_err_status_buffer_small;
    if (out != in)
        memmove(out, in, in_len);
    *len = (int)in_len;
    return srtp_err_status_ok;
}

srtp_err_status_t srtp_protect(srtp_t ctx,
                               const uint8_t *rtp,
                               size_t rtp_len,
                               uint8_t *srtp,
                               size_t *srtp_len,
                               size_t mki_index)
{
    int len;
    srtp_err_status_t err;

    if (mki_index != 0)
        return srtp_err_status_bad_param;
    err = in_place(rtp, rtp_len, srtp, srtp_len, SRTP_MAX_TRAILER_LEN, &len);
    if (err == srtp_err_status_ok)
        err = srtp2_protect(ctx, srtp, &len);
    if (err == srtp_err_status_ok)
        *srtp_len = (size_t)len;
    return err;
}

srtp_err_status_t srtp_unprotect(srtp_t ctx,
                                 const uint8_t *srtp,
                                 size_t srtp_len,
                                 uint8_t *rtp,
                                 size_t *rtp_len)
{
    int len;
    srtp_err_status_t err;

    /* Unprotecting only shrinks a packet. */
    err = in_place(srtp, srtp_len, rtp, rtp_len, 0, &len);
    if (err == srtp_err_status_ok)
        err = srtp2_unprotect(ctx, rtp, &len);
    if (err == srtp_err_status_ok)
        *rtp_len = (size_t)len;
    return err;
}

srtp_err_status_t srtp_protect_rtcp(srtp_t ctx,
                                    const uint8_t *rtcp,
                                    size_t rtcp_len,
                                    uint8_t *srtcp,
                                    size_t *srtcp_len,
                                    size_t mki_index)
{
    int len;
    srtp_err_status_t err;

    if (mki_index != 0)
        return srtp_err_status_bad_param;
    err = in_place(rtcp, rtcp_len, srtcp, srtcp_len,
                   SRTP_MAX_SRTCP_TRAILER_LEN, &len);
    if (err == srtp_err_status_ok)
        err = srtp2_protect_rtcp(ctx, srtcp, &len);
    if (err == srtp_err_status_ok)
        *srtcp_len = (size_t)len;
    return err;
}

srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx,
                                      const uint8_t *srtcp,
                                      size_t srtcp_len,
                                      uint8_t *rtcp,
                                      size_t *rtcp_len)
{
    int len;
    srtp_err_status_t err;

    err = in_place(srtcp, srtcp_len, rtcp, rtcp_len, 0, &len);
    if (err == srtp_err_status_ok)
        err = srtp2_unprotect_rtcp(ctx, rtcp, &len);
    if (err == srtp_err_status_ok)
        *rtcp_len = (size_t)len;
    return err;
}
