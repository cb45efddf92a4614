package signing

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// PublicTokenKeyFromPEM reads an RSA or Ed25519 public key for token verification from PEM: a PKIX
// "PUBLIC KEY", a PKCS#1 "RSA PUBLIC KEY" or a "CERTIFICATE". RSA keys verify RS256, Ed25519 keys EdDSA.
func PublicTokenKeyFromPEM(kid string, pemText []byte) (TokenKey, error) {
	block, err := onePEMBlock(pemText)
	if err != nil {
		return TokenKey{}, err
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return TokenKey{}, fmt.Errorf("%w: %q blocks hold no public key", ErrInvalidPEM, block.Type)
	}
	if err != nil {
		return TokenKey{}, fmt.Errorf("%w: %v", ErrInvalidPEM, err)
	}
	var key TokenKey
	switch k := pub.(type) {
	case *rsa.PublicKey:
		key = RS256Key(kid, k)
	case ed25519.PublicKey:
		key = EdDSAKey(kid, k)
	default:
		return TokenKey{}, fmt.Errorf("%w: %T keys are not supported (RSA or Ed25519 only)", ErrInvalidPEM, pub)
	}
	if err := key.check(); err != nil {
		return TokenKey{}, err
	}
	return key, nil
}

// TokenSignerFromPEM reads an RSA or Ed25519 private key for issuing tokens from PEM: PKCS#8 "PRIVATE KEY"
// or PKCS#1 "RSA PRIVATE KEY". Encrypted PEM is not supported.
func TokenSignerFromPEM(kid string, pemText []byte) (*TokenSigner, error) {
	block, err := onePEMBlock(pemText)
	if err != nil {
		return nil, err
	}
	var priv any
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: %q blocks hold no private key", ErrInvalidPEM, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPEM, err)
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return NewRS256Signer(kid, k)
	case ed25519.PrivateKey:
		return NewEdDSASigner(kid, k)
	}
	return nil, fmt.Errorf("%w: %T keys are not supported (RSA or Ed25519 only)", ErrInvalidPEM, priv)
}

func onePEMBlock(pemText []byte) (*pem.Block, error) {
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrInvalidPEM)
	}
	return block, nil
}
