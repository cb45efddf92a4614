package app

import "errors"

var (
	// ErrInvalidConfig: the configuration could not be parsed (bad YAML, an unknown key, a bad environment
	// value) or failed validation. The wrapped text says which option and why.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrUsage: the command line is wrong (unknown command or flag, stray arguments).
	ErrUsage = errors.New("usage")
)
