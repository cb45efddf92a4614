package app

import "errors"

// ErrInvalidConfig: the configuration could not be parsed (bad YAML, an unknown key, a bad environment value)
// or failed validation. The wrapped text says which option and why.
var ErrInvalidConfig = errors.New("invalid configuration")
