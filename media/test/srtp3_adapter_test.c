/*
 * Unit test of media/shim/libsrtp3's adapter, without the worker: for each
 * profile the worker uses, a sender and a receiver session built exactly as
 * the worker's SrtpSession does; checks round trip (same and separate
 * buffers), tamper rejection, replay rejection, reordering inside the window,
 * loss, RTCP, and the adapter's own argument checks.
 *
 * Build and run (after prepare-media and one cargo build, which leaves the
 * meson build dir B = $CARGO_TARGET_DIR/debug/build/mediasoup-sys-HASH/out/build
 * and C = the generated copy printed by prepare-media):
 *   cc -I$C/subprojects/libsrtp3/include media/test/srtp3_adapter_test.c \
 *      $B/subprojects/libsrtp3/libsrtp3.a.p/[a-z]*.o -lcrypto -o /tmp/srtp3-test
 *   /tmp/srtp3-test
 */
#include <arpa/inet.h>
#include <srtp.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static srtp_t make_session(srtp_profile_t profile, srtp_ssrc_type_t type,
                           const uint8_t *keysalt)
{
    srtp_policy_t p = NULL;
    srtp_ssrc_t ssrc = { type, 0 };
    srtp_t s = NULL;
    size_t kl = srtp_profile_get_master_key_length(profile);
    size_t sl = srtp_profile_get_master_salt_length(profile);

    CHECK(srtp_policy_create(&p) == srtp_err_status_ok);
    CHECK(srtp_policy_set_ssrc(p, ssrc) == srtp_err_status_ok);
    CHECK(srtp_policy_set_profile(p, profile) == srtp_err_status_ok);
    /* wrong lengths and MKI are refused */
    CHECK(srtp_policy_add_key(p, keysalt, kl + 1, keysalt + kl, sl, NULL, 0) ==
          srtp_err_status_bad_param);
    CHECK(srtp_policy_add_key(p, keysalt, kl, keysalt + kl, sl, keysalt, 1) ==
          srtp_err_status_bad_param);
    CHECK(srtp_policy_add_key(p, keysalt, kl, keysalt + kl, sl, NULL, 0) ==
          srtp_err_status_ok);
    CHECK(srtp_policy_set_allow_repeat_tx(p, true) == srtp_err_status_ok);
    CHECK(srtp_policy_set_window_size(p, 1024) == srtp_err_status_ok);
    CHECK(srtp_create(&s, p) == srtp_err_status_ok);
    srtp_policy_destroy(p); /* as the worker does, before using s */
    return s;
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, size_t payload)
{
    memset(buf, 0, 12 + payload);
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[11] = 0x42; /* ssrc 0x00000042 */
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload;
}

static void test_profile(srtp_profile_t profile, const char *name)
{
    uint8_t keysalt[64];
    for (size_t i = 0; i < sizeof(keysalt); i++)
        keysalt[i] = (uint8_t)(i * 13 + 1);
    srtp_t tx = make_session(profile, ssrc_any_outbound, keysalt);
    srtp_t rx = make_session(profile, ssrc_any_inbound, keysalt);

    _Alignas(4) uint8_t plain[1500], wire[1500 + SRTP_MAX_TRAILER_LEN],
        out[1500 + SRTP_MAX_TRAILER_LEN], saved[8][sizeof(wire)];
    size_t saved_len[8];

    /* 8 packets: protect all, deliver in order 1,0,3,(2 lost),5,4,7,6 */
    for (uint16_t seq = 0; seq < 8; seq++) {
        size_t len = make_rtp(plain, 1000 + seq, 100 + seq);
        size_t wl = sizeof(wire);
        CHECK(srtp_protect(tx, plain, len, wire, &wl, 0) == srtp_err_status_ok);
        CHECK(wl > len && wl <= len + SRTP_MAX_TAG_LEN);
        memcpy(saved[seq], wire, wl);
        saved_len[seq] = wl;
    }
    const int order[] = { 1, 0, 3, 5, 4, 7, 6 };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int seq = order[i];
        uint8_t inplace[sizeof(wire)];
        size_t len = saved_len[seq];
        memcpy(inplace, saved[seq], len);
        /* in place, as the worker calls it */
        CHECK(srtp_unprotect(rx, inplace, len, inplace, &len) ==
              srtp_err_status_ok);
        size_t expect = make_rtp(plain, 1000 + seq, 100 + seq);
        CHECK(len == expect && memcmp(inplace, plain, expect) == 0);
    }
    /* replay of an accepted packet is refused */
    {
        size_t len = saved_len[3];
        memcpy(out, saved[3], len);
        CHECK(srtp_unprotect(rx, out, len, out, &len) ==
              srtp_err_status_replay_fail);
    }
    /* the lost packet still arrives late (inside the window), separate bufs */
    {
        size_t len = sizeof(out);
        CHECK(srtp_unprotect(rx, saved[2], saved_len[2], out, &len) ==
              srtp_err_status_ok);
        size_t expect = make_rtp(plain, 1002, 102);
        CHECK(len == expect && memcmp(out, plain, expect) == 0);
    }
    /* tampering is detected */
    {
        size_t len = make_rtp(plain, 2000, 50), wl = sizeof(wire);
        CHECK(srtp_protect(tx, plain, len, wire, &wl, 0) == srtp_err_status_ok);
        wire[20] ^= 1;
        size_t ol = sizeof(out);
        CHECK(srtp_unprotect(rx, wire, wl, out, &ol) ==
              srtp_err_status_auth_fail);
    }
    /* adapter checks: small output buffer, MKI index */
    {
        size_t len = make_rtp(plain, 3000, 50), wl = len + 4;
        CHECK(srtp_protect(tx, plain, len, wire, &wl, 0) ==
              srtp_err_status_buffer_small);
        wl = sizeof(wire);
        CHECK(srtp_protect(tx, plain, len, wire, &wl, 1) ==
              srtp_err_status_bad_param);
    }
    /* RTCP round trip (a minimal receiver report) */
    {
        uint8_t rr[8] = { 0x80, 201, 0, 1, 0, 0, 0, 0x42 };
        size_t wl = sizeof(wire);
        CHECK(srtp_protect_rtcp(tx, rr, sizeof(rr), wire, &wl, 0) ==
              srtp_err_status_ok);
        CHECK(wl > sizeof(rr));
        size_t len = wl;
        CHECK(srtp_unprotect_rtcp(rx, wire, wl, wire, &len) ==
              srtp_err_status_ok);
        CHECK(len == sizeof(rr) && memcmp(wire, rr, sizeof(rr)) == 0);
    }
    /* a receiver with another key rejects */
    {
        keysalt[0] ^= 0xff;
        srtp_t bad = make_session(profile, ssrc_any_inbound, keysalt);
        size_t len = saved_len[0];
        memcpy(out, saved[0], len);
        CHECK(srtp_unprotect(bad, out, len, out, &len) ==
              srtp_err_status_auth_fail);
        CHECK(srtp_dealloc(bad) == srtp_err_status_ok);
    }
    CHECK(srtp_stream_remove(rx, htonl(0x42)) == srtp_err_status_ok);
    CHECK(srtp_dealloc(tx) == srtp_err_status_ok);
    CHECK(srtp_dealloc(rx) == srtp_err_status_ok);
    printf("%s: done\n", name);
}

int main(void)
{
    CHECK(srtp_init() == srtp_err_status_ok);
    printf("%s\n", srtp_get_version_string());

    /* a key before the profile is refused (lengths unknown) */
    {
        srtp_policy_t p = NULL;
        uint8_t k[46] = { 0 };
        CHECK(srtp_policy_create(&p) == srtp_err_status_ok);
        CHECK(srtp_policy_add_key(p, k, 16, k + 16, 14, NULL, 0) ==
              srtp_err_status_bad_param);
        srtp_t s = NULL;
        CHECK(srtp_create(&s, p) == srtp_err_status_bad_param);
        srtp_policy_destroy(p);
    }

    test_profile(srtp_profile_aes128_cm_sha1_80, "AES_CM_128_HMAC_SHA1_80");
    test_profile(srtp_profile_aes128_cm_sha1_32, "AES_CM_128_HMAC_SHA1_32");
    test_profile(srtp_profile_aead_aes_128_gcm, "AEAD_AES_128_GCM");
    test_profile(srtp_profile_aead_aes_256_gcm, "AEAD_AES_256_GCM");

    CHECK(srtp_shutdown() == srtp_err_status_ok);
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
