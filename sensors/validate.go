package sensors

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Validation errors; every error of Validate wraps ErrInvalid and one of the others.
var (
	ErrInvalid     = errors.New("sensors: invalid reading")
	ErrUnknownKind = errors.New("unknown kind")
	ErrWrongUnit   = errors.New("wrong unit for kind")
	ErrOutOfRange  = errors.New("value out of range")
	ErrNotWhole    = errors.New("value must be a whole number")
	ErrIdentity    = errors.New("bad identity")
	ErrTimestamp   = errors.New("timestamp out of bounds")
)

// Default timestamp bounds of Validate.
const (
	// DefaultMaxFutureSkew: how far ahead of the validator's clock a sensor's clock may run.
	DefaultMaxFutureSkew = 5 * time.Minute
	// DefaultMaxAge: how old a reading may be (a sensor that was offline sends its backlog late).
	DefaultMaxAge = 24 * time.Hour
	// MaxIDLength bounds sensor, building and office ids.
	MaxIDLength = 128
)

// Bounds are the timestamp tolerances of ValidateWithin.
type Bounds struct {
	MaxFutureSkew time.Duration
	MaxAge        time.Duration
}

// DefaultBounds are DefaultMaxFutureSkew and DefaultMaxAge.
func DefaultBounds() Bounds {
	return Bounds{MaxFutureSkew: DefaultMaxFutureSkew, MaxAge: DefaultMaxAge}
}

// Validate checks r against the default bounds at now (the validator's clock).
func (r Reading) Validate(now time.Time) error { return r.ValidateWithin(now, DefaultBounds()) }

// ValidateWithin checks the identity fields (non-empty, at most MaxIDLength characters of [A-Za-z0-9_.-]),
// the kind, its unit, the value's range (and wholeness for occupancy) and that ts lies in
// [now-MaxAge, now+MaxFutureSkew].
func (r Reading) ValidateWithin(now time.Time, b Bounds) error {
	for _, f := range [...]struct{ name, v string }{{"sensor", r.Sensor}, {"building", r.Building}, {"office", r.Office}} {
		if !validID(f.v) {
			return fmt.Errorf("%w: %w: %s %q must be 1 to %d characters of A-Z a-z 0-9 _ . -", ErrInvalid,
				ErrIdentity, f.name, f.v, MaxIDLength)
		}
	}
	spec, ok := SpecOf(r.Kind)
	if !ok {
		return fmt.Errorf("%w: %w: %q", ErrInvalid, ErrUnknownKind, r.Kind)
	}
	if r.Unit != spec.Unit {
		return fmt.Errorf("%w: %w: %s is measured in %s, not %q", ErrInvalid, ErrWrongUnit, r.Kind, spec.Unit, r.Unit)
	}
	if math.IsNaN(r.Value) || r.Value < spec.Min || r.Value > spec.Max {
		return fmt.Errorf("%w: %w: %s %v outside [%v, %v] %s", ErrInvalid, ErrOutOfRange, r.Kind, r.Value,
			spec.Min, spec.Max, spec.Unit)
	}
	if spec.Integer && r.Value != math.Trunc(r.Value) {
		return fmt.Errorf("%w: %w: %s %v", ErrInvalid, ErrNotWhole, r.Kind, r.Value)
	}
	switch {
	case r.TS.IsZero():
		return fmt.Errorf("%w: %w: ts missing", ErrInvalid, ErrTimestamp)
	case r.TS.After(now.Add(b.MaxFutureSkew)):
		return fmt.Errorf("%w: %w: ts %s is more than %s ahead of %s", ErrInvalid, ErrTimestamp,
			r.TS.UTC().Format(TSLayout), b.MaxFutureSkew, now.UTC().Format(TSLayout))
	case r.TS.Before(now.Add(-b.MaxAge)):
		return fmt.Errorf("%w: %w: ts %s is more than %s old at %s", ErrInvalid, ErrTimestamp,
			r.TS.UTC().Format(TSLayout), b.MaxAge, now.UTC().Format(TSLayout))
	}
	return nil
}

func validID(s string) bool {
	if s == "" || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// New builds a reading of kind for sensor with the kind's unit; it does not validate.
func New(sensor string, kind Kind, value float64, building, office string, ts time.Time) Reading {
	spec, _ := SpecOf(kind)
	return Reading{Sensor: sensor, Kind: kind, Value: value, Unit: spec.Unit, Building: building, Office: office, TS: ts}
}

// SensorID names the sensor of kind in office by the campus convention: office-suffix (b1-f1-o3-temp).
func SensorID(office string, kind Kind) string {
	spec, ok := SpecOf(kind)
	if !ok {
		return office + "-" + string(kind)
	}
	return office + "-" + spec.Suffix
}
