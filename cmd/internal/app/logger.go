package app

import (
	"fmt"
	"io"
	"log/slog"
)

// LogConfig configures the process log.
type LogConfig struct {
	// Level is the lowest level logged: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text (slog's key=value lines) or json (one object per line).
	Format string `yaml:"format"`
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Validate checks the level and the format.
func (c LogConfig) Validate() error {
	_, err := c.handler(io.Discard)
	return err
}

// NewLogger returns the process logger writing to w (the binary passes stderr). Every package it is given to
// tags its lines with a "component" attribute of its own.
func NewLogger(c LogConfig, w io.Writer) (*slog.Logger, error) {
	h, err := c.handler(w)
	if err != nil {
		return nil, err
	}
	return slog.New(h), nil
}

func (c LogConfig) handler(w io.Writer) (slog.Handler, error) {
	level, ok := logLevels[c.Level]
	if !ok {
		return nil, fmt.Errorf("level must be one of debug, info, warn, error; got %q", c.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.Format {
	case "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	default:
		return nil, fmt.Errorf("format must be text or json; got %q", c.Format)
	}
}
