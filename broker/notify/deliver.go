package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/wneessen/go-mail"
)

// send makes one attempt at d.
func (n *Notifier) send(d *delivery) error {
	switch s := scheme(d.sub.Subscriber); s {
	case "http", "https":
		return n.post(d, d.sub.Subscriber)
	case "trust+http", "trust+https":
		// Zaqar strips "trust+" and sends a Keystone trust token; zedge creates no trusts and sends the
		// post_headers as for http.
		return n.post(d, strings.TrimPrefix(strings.ToLower(d.sub.Subscriber[:6]), "trust+")+d.sub.Subscriber[6:])
	case "mailto":
		return n.mail(d)
	case MQTTScheme:
		return n.publish(d)
	default:
		return fmt.Errorf("%w: no delivery for subscriber scheme %q", errPermanent, s)
	}
}

// post POSTs the payload (or the post_data template around it) with Content-Type application/json and the
// subscription's post_headers. Below 400 is delivered; 5xx and network errors are retried; 4xx is final.
func (n *Notifier) post(d *delivery, target string) error {
	body := d.payload
	opts := options(d.sub.Options)
	if tpl, ok := opts["post_data"]; ok {
		var s string
		if json.Unmarshal(tpl, &s) == nil {
			body = applyTemplate(s, d.payload)
		}
	}
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if raw, ok := opts["post_headers"]; ok {
		var headers map[string]any
		if json.Unmarshal(raw, &headers) == nil {
			for k, v := range headers {
				s, isString := v.(string)
				if !isString {
					b, _ := json.Marshal(v)
					s = string(b)
				}
				req.Header.Set(k, s)
			}
		}
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err // network error or timeout: retried
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode < 400:
		return nil
	case resp.StatusCode >= 500:
		return fmt.Errorf("subscriber answered %d", resp.StatusCode)
	}
	return fmt.Errorf("%w: subscriber answered %d", errPermanent, resp.StatusCode)
}

// options decodes a subscription's options object (empty when it is not one).
func options(raw []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

func optionString(opts map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := opts[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// mail sends the notification to a mailto:addr?subject=... subscriber over SMTP: the address is the URI's
// path, the subject its subject parameter (else options.subject), the sender options.from (else the
// configured sender), the body the notification's JSON, or, for a confirmation with an external
// confirmation page configured, a link to that page.
func (n *Notifier) mail(d *delivery) error {
	if n.cfg.SMTP.Host == "" {
		return fmt.Errorf("%w: no SMTP server configured (notify.smtp.host)", errPermanent)
	}
	u, err := url.Parse(d.sub.Subscriber)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	to := u.Opaque
	if to == "" {
		to = u.Path
	}
	opts := options(d.sub.Options)
	subject := u.Query().Get("subject")
	if subject == "" {
		subject = optionString(opts, "subject")
	}
	if subject == "" {
		subject = "Notification from queue " + d.sub.Queue
		if d.confirm != nil {
			subject = "Confirm your subscription to queue " + d.sub.Queue
		}
	}
	from := optionString(opts, "from")
	if from == "" {
		from = n.cfg.SMTP.From
	}
	msg := mail.NewMsg()
	if err := msg.From(from); err != nil {
		return fmt.Errorf("%w: sender %q: %v", errPermanent, from, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("%w: recipient %q: %v", errPermanent, to, err)
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, n.mailBody(d))
	client, err := n.smtpClient()
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.SMTP.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() && (se.Reason == mail.ErrGetSender || se.Reason == mail.ErrGetRcpts ||
			se.Reason == mail.ErrSMTPMailFrom || se.Reason == mail.ErrSMTPRcptTo || se.Reason == mail.ErrNoUnencoded) {
			return fmt.Errorf("%w: %v", errPermanent, err)
		}
		return err
	}
	return nil
}

func (n *Notifier) mailBody(d *delivery) string {
	if d.confirm == nil || n.cfg.ConfirmationURL == "" {
		return string(d.payload)
	}
	c := d.confirm.url.Credentials()
	q := url.Values{"Signature": {c.Signature}, "Methods": {c.Methods}, "Paths": {c.Paths},
		"Project": {d.confirm.url.Project}, "Expires": {c.Expires}, "Queue": {d.sub.Queue}}
	link := n.cfg.ConfirmationURL + "?" + q.Encode()
	return "You have chosen to subscribe to the queue: " + d.sub.Queue + ". This queue belongs to project: " +
		d.project + ". To confirm this subscription, click or visit this link below: " + link + "\n"
}

func (n *Notifier) smtpClient() (*mail.Client, error) {
	c := n.cfg.SMTP
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(c.Timeout)}
	switch c.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username),
			mail.WithPassword(string(c.Password)))
	}
	return mail.NewClient(c.Host, opts...)
}

// publish republishes the notification on the subscriber's topic: mqtt:<topic>, with options.qos (0 or 1,
// default 1) and options.retain.
func (n *Notifier) publish(d *delivery) error {
	if n.mqtt == nil {
		return fmt.Errorf("%w: no MQTT publisher is configured", errPermanent)
	}
	topic := strings.TrimPrefix(d.sub.Subscriber[len(MQTTScheme)+1:], "//")
	if topic == "" || strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("%w: %q names no MQTT topic", errPermanent, d.sub.Subscriber)
	}
	opts := options(d.sub.Options)
	qos := byte(1)
	if raw, ok := opts["qos"]; ok && string(raw) == "0" {
		qos = 0
	}
	retain := string(opts["retain"]) == "true"
	return n.mqtt.Publish(d.project, topic, d.payload, qos, retain)
}
