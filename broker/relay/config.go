package relay

import (
	"errors"
	"fmt"
	"time"
)

// Config configures a Relay. zedge derives it from the store's Redis settings (the channel carries the
// store's key prefix); nothing here is in zedge.yaml.
type Config struct {
	// Channel is the Redis pub/sub channel every node publishes to and subscribes to. Nodes of one deployment
	// must agree on it; deployments sharing a Redis must not.
	Channel string
	// QueueSize is how many events may wait to be published. MessagesPosted never blocks: when the queue is
	// full the event is dropped and counted (remote nodes then miss that wake-up, see the package doc).
	QueueSize int
	// MaxFrameBytes caps one published frame. A post whose messages do not fit is sent as its ids (receivers
	// fetch the messages); one whose ids do not fit either is sent as a bare wake-up.
	MaxFrameBytes int
	// FetchBatch is how many ids one fetch asks for (the broker's limits.max_messages_per_page).
	FetchBatch int
	// PublishBatch is how many waiting frames are published in one pipelined round trip.
	PublishBatch int
	// Timeout bounds one publish round trip and one fetch.
	Timeout time.Duration
	// BackoffMin and BackoffMax bound the wait between attempts while Redis fails (doubling from min to max).
	BackoffMin time.Duration
	BackoffMax time.Duration
}

// DefaultChannel is the channel of DefaultConfig.
const DefaultChannel = "zedge:relay"

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Channel:       DefaultChannel,
		QueueSize:     8192,
		MaxFrameBytes: 64 << 10,
		FetchBatch:    20,
		PublishBatch:  128,
		Timeout:       2 * time.Second,
		BackoffMin:    50 * time.Millisecond,
		BackoffMax:    5 * time.Second,
	}
}

// minFrameBytes leaves room for a header with long project and queue names and a bare wake-up.
const minFrameBytes = 1024

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Channel == "" {
		errs = append(errs, errors.New("relay: channel must not be empty"))
	}
	if c.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("relay: queue size must be positive, got %d", c.QueueSize))
	}
	if c.MaxFrameBytes < minFrameBytes {
		errs = append(errs, fmt.Errorf("relay: max frame bytes must be at least %d, got %d", minFrameBytes, c.MaxFrameBytes))
	}
	if c.FetchBatch < 1 {
		errs = append(errs, fmt.Errorf("relay: fetch batch must be positive, got %d", c.FetchBatch))
	}
	if c.PublishBatch < 1 {
		errs = append(errs, fmt.Errorf("relay: publish batch must be positive, got %d", c.PublishBatch))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("relay: timeout must be positive, got %v", c.Timeout))
	}
	if c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("relay: need 0 < backoff min (%v) <= backoff max (%v)", c.BackoffMin, c.BackoffMax))
	}
	return errors.Join(errs...)
}
