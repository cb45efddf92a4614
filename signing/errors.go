package signing

import "errors"

// Failures of a signed-URL request check (VerifyRequest). Zaqar answers every one of them with the same bare
// 404 {"title": "404 Not Found"}; they are distinct so that metrics and logs can tell the reason. None of their
// texts ever contains a signature.
var (
	// ErrNoURLKey means no URL-signing secret is configured, so no signed request can verify.
	ErrNoURLKey = errors.New("signing: no url signing key configured")
	// ErrSignatureMissing means the signature is absent or empty. An empty signature is a refusal, never a
	// bypass (Zaqar skips the check when URL-Signature is empty; zedge does not).
	ErrSignatureMissing = errors.New("signing: url signature missing")
	// ErrSignatureMalformed means the signature is not 64 lower-case hex digits.
	ErrSignatureMalformed = errors.New("signing: url signature malformed")
	// ErrCredentialsMalformed means the credential values are unusable: too long, too many elements,
	// duplicated query parameters, or elements that no signer of zedge could have produced.
	ErrCredentialsMalformed = errors.New("signing: url credentials malformed")
	// ErrMethodNotAllowed means the request method is not among the granted methods.
	ErrMethodNotAllowed = errors.New("signing: method not granted by url signature")
	// ErrPathNotAllowed means the request path is not covered by any granted path.
	ErrPathNotAllowed = errors.New("signing: path not granted by url signature")
	// ErrExpiresInvalid means the expiry is missing, integer-looking or unparsable.
	ErrExpiresInvalid = errors.New("signing: url expiry invalid")
	// ErrSignatureExpired means the expiry is not after now.
	ErrSignatureExpired = errors.New("signing: url signature expired")
	// ErrSignatureMismatch means no configured key produces the presented signature.
	ErrSignatureMismatch = errors.New("signing: url signature mismatch")
)

// Kinds of share-request and expiry validation failures. They reach the caller inside a *ValidationError whose
// Text is Zaqar's exact description (HTTP: 400 "Invalid API request"); errors.Is(err, ErrX) tells the kind.
var (
	// ErrKeyMissing: no URL-signing secret is configured. Text "The `key` can't be None".
	ErrKeyMissing = errors.New("signing: url signing key missing")
	// ErrUnknownKeys: the share body has keys other than paths, methods, expires. Text "Unknown keys: {...}".
	ErrUnknownKeys = errors.New("signing: unknown share keys")
	// ErrInvalidPaths: a share path name is not messages, subscriptions or claims. Text "Invalid paths: {...}".
	ErrInvalidPaths = errors.New("signing: invalid share paths")
	// ErrPathsNotList: paths is not a list, or a grant has no usable paths. Text "`paths` must be a non-empty list".
	ErrPathsNotList = errors.New("signing: paths not a non-empty list")
	// ErrMethodsNotList: methods is not a list. Text "`methods` should be a list".
	ErrMethodsNotList = errors.New("signing: methods not a list")
	// ErrMethodsInvalid: a method is not a string, or holds a character that would make the canonical string
	// ambiguous (a comma or a backslash). zedge only; Zaqar fails such input with a 500 or signs it.
	ErrMethodsInvalid = errors.New("signing: invalid methods")
	// ErrExpiresInteger: expires looks like an integer. Text "`expires` should be date format, for example
	// 2016-01-01T00:00:00, not integer value: N".
	ErrExpiresInteger = errors.New("signing: expires is an integer")
	// ErrExpiresUnparsable: expires is not an ISO-8601 date. Text "Unable to parse date string 'x'" or the
	// Python datetime range message ("month must be in 1..12", ...).
	ErrExpiresUnparsable = errors.New("signing: expires unparsable")
	// ErrExpiresPast: expires is not after now. Text "`expires` is lower than the current time".
	ErrExpiresPast = errors.New("signing: expires in the past")
)

// ValidationError carries a client-facing description (Zaqar's wording where Zaqar has one) and the kind
// sentinel it wraps. The HTTP layer shows Text as the description of a 400 "Invalid API request".
type ValidationError struct {
	Kind error
	Text string
}

func (e *ValidationError) Error() string { return e.Text }

// Unwrap lets errors.Is(err, ErrExpiresPast) and friends work.
func (e *ValidationError) Unwrap() error { return e.Kind }

func invalid(kind error, text string) error { return &ValidationError{Kind: kind, Text: text} }

// Failures of token verification and authorization. None of their texts contains the token.
var (
	// ErrTokenMissing: no token was presented.
	ErrTokenMissing = errors.New("signing: token missing")
	// ErrTokenMalformed: not three base64url segments of JSON, or longer than MaxTokenLength.
	ErrTokenMalformed = errors.New("signing: token malformed")
	// ErrTokenAlgorithm: the alg is none, unknown, not configured, or not the one pinned to the selected key
	// (algorithm confusion).
	ErrTokenAlgorithm = errors.New("signing: token algorithm not accepted")
	// ErrTokenKeyUnknown: the kid names no configured key, or the token has no kid and there is no default key.
	ErrTokenKeyUnknown = errors.New("signing: token key unknown")
	// ErrTokenSignature: the signature does not verify with the selected key.
	ErrTokenSignature = errors.New("signing: token signature invalid")
	// ErrTokenExpired: exp is in the past (beyond the leeway).
	ErrTokenExpired = errors.New("signing: token expired")
	// ErrTokenNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrTokenNotYetValid = errors.New("signing: token not yet valid")
	// ErrTokenClaims: a required claim is missing or a claim has an invalid value.
	ErrTokenClaims = errors.New("signing: token claims invalid")
	// ErrTokenWrongProject: the token is for another project.
	ErrTokenWrongProject = errors.New("signing: token not valid for this project")
	// ErrTokenQueueNotAllowed: the token's queues claim does not cover the queue.
	ErrTokenQueueNotAllowed = errors.New("signing: token not valid for this queue")
)

// Configuration and key-material errors.
var (
	// ErrInvalidKey: a key id or secret is empty, duplicated, too short, of the wrong type, or there are too many.
	ErrInvalidKey = errors.New("signing: invalid key")
	// ErrInvalidPEM: PEM text that holds no usable key.
	ErrInvalidPEM = errors.New("signing: invalid pem key")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("signing: invalid config")
)
