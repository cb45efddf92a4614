package broker

import (
	"errors"
	"fmt"
)

// Limits holds the Zaqar [transport] limits and defaults. Times are whole seconds, as in Zaqar.
// DefaultLimits gives Zaqar's values; an operator may tighten them, and may lower the minimum TTLs for
// short-lived sensor data (Zaqar hard-codes 60 s).
type Limits struct {
	MaxMessagesPostSize int `yaml:"max_messages_post_size"` // bytes of a whole POST body
	MaxQueueMetadata    int `yaml:"max_queue_metadata"`     // bytes of a queue PUT/PATCH body

	DefaultMessageTTL   int `yaml:"default_message_ttl"`
	MinMessageTTL       int `yaml:"min_message_ttl"`
	MaxMessageTTL       int `yaml:"max_message_ttl"`
	DefaultMessageDelay int `yaml:"default_message_delay"`
	MaxMessageDelay     int `yaml:"max_message_delay"`

	DefaultClaimTTL   int `yaml:"default_claim_ttl"`
	DefaultClaimGrace int `yaml:"default_claim_grace"`
	MinClaimTTL       int `yaml:"min_claim_ttl"`
	MaxClaimTTL       int `yaml:"max_claim_ttl"`
	MinClaimGrace     int `yaml:"min_claim_grace"`
	MaxClaimGrace     int `yaml:"max_claim_grace"`

	DefaultSubscriptionTTL int `yaml:"default_subscription_ttl"`
	MinSubscriptionTTL     int `yaml:"min_subscription_ttl"`

	MaxQueuesPerPage         int `yaml:"max_queues_per_page"`
	MaxMessagesPerPage       int `yaml:"max_messages_per_page"`
	MaxSubscriptionsPerPage  int `yaml:"max_subscriptions_per_page"`
	MaxMessagesPerClaimOrPop int `yaml:"max_messages_per_claim_or_pop"`

	// SubscriberTypes lists the accepted subscriber URI schemes.
	SubscriberTypes []string `yaml:"subscriber_types"`

	// transportSchemes are accepted subscriber schemes owned by a transport (WithTransportSubscriberScheme).
	transportSchemes []string
}

// DefaultLimits returns Zaqar 15's defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxMessagesPostSize: 262144,
		MaxQueueMetadata:    65536,

		DefaultMessageTTL:   3600,
		MinMessageTTL:       60,
		MaxMessageTTL:       1209600,
		DefaultMessageDelay: 0,
		MaxMessageDelay:     900,

		DefaultClaimTTL:   300,
		DefaultClaimGrace: 60,
		MinClaimTTL:       60,
		MaxClaimTTL:       43200,
		MinClaimGrace:     60,
		MaxClaimGrace:     43200,

		DefaultSubscriptionTTL: 3600,
		MinSubscriptionTTL:     60,

		MaxQueuesPerPage:         20,
		MaxMessagesPerPage:       20,
		MaxSubscriptionsPerPage:  20,
		MaxMessagesPerClaimOrPop: 20,

		SubscriberTypes: []string{"http", "https", "mailto", "trust+http", "trust+https"},
	}
}

// Validate checks that the limits are coherent.
func (l Limits) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(l.MaxMessagesPostSize > 0, "max_messages_post_size must be positive")
	check(l.MaxQueueMetadata > 0, "max_queue_metadata must be positive")
	check(l.MinMessageTTL >= 1 && l.MinMessageTTL <= l.MaxMessageTTL, "need 1 <= min_message_ttl <= max_message_ttl")
	check(l.DefaultMessageTTL >= l.MinMessageTTL && l.DefaultMessageTTL <= l.MaxMessageTTL,
		"default_message_ttl must be within [min_message_ttl, max_message_ttl]")
	check(l.MaxMessageDelay >= 0 && l.DefaultMessageDelay >= 0 && l.DefaultMessageDelay <= l.MaxMessageDelay,
		"need 0 <= default_message_delay <= max_message_delay")
	check(l.MinClaimTTL >= 1 && l.MinClaimTTL <= l.MaxClaimTTL, "need 1 <= min_claim_ttl <= max_claim_ttl")
	check(l.DefaultClaimTTL >= l.MinClaimTTL && l.DefaultClaimTTL <= l.MaxClaimTTL,
		"default_claim_ttl must be within [min_claim_ttl, max_claim_ttl]")
	check(l.MinClaimGrace >= 0 && l.MinClaimGrace <= l.MaxClaimGrace, "need 0 <= min_claim_grace <= max_claim_grace")
	check(l.DefaultClaimGrace >= l.MinClaimGrace && l.DefaultClaimGrace <= l.MaxClaimGrace,
		"default_claim_grace must be within [min_claim_grace, max_claim_grace]")
	check(l.MinSubscriptionTTL >= 1 && l.DefaultSubscriptionTTL >= l.MinSubscriptionTTL,
		"need 1 <= min_subscription_ttl <= default_subscription_ttl")
	for name, v := range map[string]int{
		"max_queues_per_page": l.MaxQueuesPerPage, "max_messages_per_page": l.MaxMessagesPerPage,
		"max_subscriptions_per_page": l.MaxSubscriptionsPerPage, "max_messages_per_claim_or_pop": l.MaxMessagesPerClaimOrPop,
	} {
		check(v >= 1 && v <= 1000, "%s must be within [1, 1000]", name)
	}
	check(len(l.SubscriberTypes) > 0, "subscriber_types must not be empty")
	return errors.Join(errs...)
}
