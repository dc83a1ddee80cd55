package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters. The defaults are the OWASP minimum for
// argon2id (19 MiB, two passes, one lane): about 30 ms on the development machine, so that a
// stolen hash costs an attacker as much per guess while signing in stays quick.
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultPasswordParams are the parameters new hashes are made with.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordRunes is the shortest password an operator may choose.
	MinPasswordRunes = 10
	// maxPasswordBytes bounds the work one sign-in attempt can ask of the server.
	maxPasswordBytes = 256
)

// ErrWeakPassword is returned for a password too short or too long to accept.
var ErrWeakPassword = fmt.Errorf("a password must have at least %d characters and at most %d bytes", MinPasswordRunes, maxPasswordBytes)

var b64 = base64.RawStdEncoding

// HashPassword hashes a password with argon2id and a fresh salt, in the encoded form
// $argon2id$v=19$m=…,t=…,p=…$salt$hash that carries its own parameters.
func HashPassword(password string, p PasswordParams) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordRunes || len(password) > maxPasswordBytes {
		return "", ErrWeakPassword
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("not an argon2id hash")

// VerifyPassword reports whether password matches an encoded hash, in constant time for a
// given hash.
func VerifyPassword(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return false, errBadHash
	}
	// A hash is written by this code only; parameters beyond any sane cost mean a tampered row.
	if p.MemoryKiB > 1<<20 || p.Time > 16 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	if len(password) > maxPasswordBytes {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
