package media

import (
	"slices"
	"testing"
)

// The key and salt lengths pion's profiles give are RFC 4568's and RFC
// 7714's for the SDES suites.
func TestSuiteKeyLengths(t *testing.T) {
	want := map[string]int{"AEAD_AES_128_GCM": 16 + 12, "AES_CM_128_HMAC_SHA1_80": 16 + 14, "AES_CM_128_HMAC_SHA1_32": 16 + 14}
	for _, name := range SuiteNames() {
		if n, ok := keyLen(name); !ok || n != want[name] {
			t.Errorf("%s: key and salt %d bytes (%v); want %d", name, n, ok, want[name])
		}
	}
	if !slices.Equal(SuiteNames(), []string{"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}) {
		t.Errorf("suites %v: want GCM first, then the two AES_CM", SuiteNames())
	}
	if _, ok := keyLen("AES_256_CM_HMAC_SHA1_80"); ok {
		t.Error("a suite openum does not accept has a key length")
	}
}
