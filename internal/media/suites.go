package media

import "github.com/pion/srtp/v3"

// suites are the SRTP crypto suites openum accepts, strongest first (SPEC
// MEDIA-2): each SDES name (RFC 4568, RFC 7714) with pion's protection
// profile, which knows the suite's key and salt lengths. pion names its
// profiles as DTLS-SRTP does (RFC 5764), not as a=crypto lines do.
var suites = []struct {
	name    string
	profile srtp.ProtectionProfile
}{
	{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm},
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32},
}

// offerSuite is the suite a call openum places offers.
const offerSuite = "AES_CM_128_HMAC_SHA1_80"

// SuiteNames returns the names of the accepted suites, strongest first.
func SuiteNames() []string {
	names := make([]string, len(suites))
	for i, s := range suites {
		names[i] = s.name
	}
	return names
}

// profile returns the protection profile of the suite called name.
func profile(name string) (srtp.ProtectionProfile, bool) {
	for _, s := range suites {
		if s.name == name {
			return s.profile, true
		}
	}
	return 0, false
}

// keyLen is the length of an SDES inline key of the suite called name:
// the master key then the master salt, in bytes.
func keyLen(name string) (int, bool) {
	p, ok := profile(name)
	if !ok {
		return 0, false
	}
	key, err := p.KeyLen()
	if err != nil {
		return 0, false
	}
	salt, err := p.SaltLen()
	if err != nil {
		return 0, false
	}
	return key + salt, true
}
