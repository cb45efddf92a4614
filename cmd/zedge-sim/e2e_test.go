package main

// The end-to-end test: the real zedge binary (auth jwt, MQTT on, a temp data dir, 127.0.0.1:0 ports, found
// through its ready file) and the small campus run by zedge-sim's own run function for 20 s. Everything is
// count-based: no assertion depends on how fast anything was.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	firmwaresim "github.com/zedge-io/zedge/firmware-sim"
	"github.com/zedge-io/zedge/firmware-sim/webapp"
	"github.com/zedge-io/zedge/internal/zedgetest"
	"github.com/zedge-io/zedge/sensors"
	"github.com/zedge-io/zedge/signing"
)

const (
	e2eJWTSecret  = "zedge-sim-e2e-secret-of-at-least-32-bytes"
	e2eSigningKey = "zedge-sim-e2e-url-signing-key"
)

func TestMain(m *testing.M) { zedgetest.Main(m) }

// restGet is an operator's GET with a member token of project campus.
func restGet(t *testing.T, base, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Client-ID", uuid.NewString())
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func queueTotal(t *testing.T, base, token, queue string) int {
	var st struct{ Messages struct{ Total int } }
	restGet(t, base, token, "/v2/queues/"+queue+"/stats", &st)
	return st.Messages.Total
}

func TestSmallCampusE2E(t *testing.T) {
	z := zedgetest.Start(t, zedgetest.Options{Env: []string{"ZEDGE_AUTH=jwt", "ZEDGE_JWT_SECRET=" + e2eJWTSecret,
		"ZEDGE_SIGNING_KEY=" + e2eSigningKey}})
	readyFile, base := z.ReadyFile, "http://"+z.HTTP

	// Sensors get their signed URLs from zedge's share API here (no -signing-key): the local signing path is
	// covered by firmwaresim's unit tests.
	var stdout bytes.Buffer
	stderr := &zedgetest.Buffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"-ready", readyFile, "-jwt-secret", e2eJWTSecret, "-signing-key", "",
			"-scenario", "../../configs/campus-small.yaml", "-duration", "20s", "-json", "-progress=false",
			"-app-addr", "127.0.0.1:0"}, &stdout, stderr)
	}()
	checkWebApp(t, stderr, "ws://"+z.WS+"/")
	code := <-exit
	t.Logf("zedge-sim stderr:\n%s", stderr.String())
	var rep firmwaresim.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON (%v):\n%s", err, stdout.String())
	}
	t.Logf("report:\n%s", rep.Text())
	if code != 0 {
		t.Errorf("zedge-sim exit status %d, want 0", code)
	}

	// The campus ran: 30 MQTT devices, 50 sensors, all of it verified over REST.
	if rep.MQTTDevices != 30 || rep.Sensors != 50 || !rep.Verified {
		t.Fatalf("campus %d MQTT devices, %d sensors, verified %v", rep.MQTTDevices, rep.Sensors, rep.Verified)
	}
	for name, f := range map[string]firmwaresim.FlowReport{"telemetry": rep.Telemetry, "readings": rep.Readings} {
		switch {
		case f.Acked == 0:
			t.Errorf("%s: nothing acknowledged", name)
		case f.Lost != 0:
			t.Errorf("%s: %d acknowledged items lost", name, f.Lost)
		case f.Sent != f.Acked || f.Pending != 0 || f.Dropped != 0 || f.Rejected != 0:
			t.Errorf("%s: sent %d, acked %d, pending %d, dropped %d, rejected %d", name, f.Sent, f.Acked, f.Pending, f.Dropped, f.Rejected)
		case f.StoredUnique < f.Acked:
			t.Errorf("%s: %d unique stored < %d acked", name, f.StoredUnique, f.Acked)
		}
	}
	c := rep.Commands
	if c.Sent == 0 || c.Unacked != 0 || c.Acked != c.Sent || c.Delivered != c.Sent {
		t.Errorf("commands: sent %d, delivered %d, acked %d, unacked %d", c.Sent, c.Delivered, c.Acked, c.Unacked)
	}
	if rep.Energy.AfterHours <= 0 || rep.Energy.AfterAvgKW >= rep.Energy.BeforeAvgKW {
		t.Errorf("going green saved nothing: %+v", rep.Energy)
	}
	if rep.Firmware.FlakyDevices > 0 && rep.Firmware.FlakyDrops == 0 {
		t.Errorf("%d flaky devices never dropped their connection", rep.Firmware.FlakyDevices)
	}
	if rep.Firmware.Reconnects == 0 {
		t.Error("no device ever reconnected: the firmware behaviour was not exercised")
	}

	// The report agrees with what the REST API shows now.
	signer, err := signing.NewHS256Signer("default", []byte(e2eJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := signing.NewClaims("e2e-checker", "campus", []string{signing.RoleMember}, time.Now(), time.Hour)
	token, err := signing.IssueToken(signer, claims)
	if err != nil {
		t.Fatal(err)
	}
	readings := queueTotal(t, base, token, "readings-b1") + queueTotal(t, base, token, "readings-b2")
	if int64(readings) != rep.Readings.StoredMessages || rep.Readings.StoredMessages < rep.Readings.Acked {
		t.Errorf("readings queues hold %d messages; the report says %d stored, %d acked", readings,
			rep.Readings.StoredMessages, rep.Readings.Acked)
	}
	if tel := queueTotal(t, base, token, firmwaresim.TelemetryQueue); int64(tel) != rep.Telemetry.InQueues ||
		rep.Telemetry.InQueues+rep.Telemetry.Processed != rep.Telemetry.StoredMessages {
		t.Errorf("telemetry-devices holds %d; the report says %d in queues + %d processed = %d stored", tel,
			rep.Telemetry.InQueues, rep.Telemetry.Processed, rep.Telemetry.StoredMessages)
	}
	if res := queueTotal(t, base, token, firmwaresim.ResultsQueue); int64(res) != c.ResultRecords || int64(res) < c.Acked {
		t.Errorf("cmd-results holds %d records; the report says %d records for %d acked commands", res, c.ResultRecords, c.Acked)
	}
	// No command is left queued or claimed in any device's queue.
	left := 0
	for _, b := range []string{"b1", "b2"} {
		for o := 1; o <= 5; o++ {
			for _, d := range []string{"th", "ac1", "ac2"} {
				left += queueTotal(t, base, token, fmt.Sprintf("cmd-%s-f1-o%d-%s", b, o, d))
			}
		}
	}
	if left != 0 || rep.Queues["cmd-*"].Total != 0 {
		t.Errorf("%d commands left in device queues (report: %d)", left, rep.Queues["cmd-*"].Total)
	}
	// A sensor with Zaqar's header form of a signed URL (signed here with zedge's key) posts too.
	ring, _ := signing.NewKeyRing(signing.URLKey{ID: "k", Secret: []byte(e2eSigningKey)})
	su, err := ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/readings-b9/messages"}, Methods: []string{"POST"},
		Project: "campus", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cr := su.Credentials()
	sc := sensors.DefaultConfig()
	sc.URL, sc.TTL = base+"/v2/queues/readings-b9/messages", 300
	sc.Headers = sensors.SignedHeaders(cr.Signature, cr.Expires, cr.Methods, cr.Paths, "campus")
	client, err := sensors.NewClient(sc)
	if err != nil {
		t.Fatal(err)
	}
	reading := sensors.New("b9-f1-o1-co2", sensors.CO2, 612, "b9", "b9-f1-o1", time.Now())
	if res, err := client.Post(context.Background(), reading); err != nil || len(res.IDs) != 1 {
		t.Fatalf("header-form post: %+v %v", res, err)
	}
	var b9 struct {
		Messages []struct{ Body json.RawMessage }
	}
	restGet(t, base, token, "/v2/queues/readings-b9/messages?echo=true", &b9)
	if len(b9.Messages) != 1 {
		t.Fatalf("readings-b9 lists %d messages", len(b9.Messages))
	}
	if got, err := sensors.Decode(b9.Messages[0].Body); err != nil || got.ID() != reading.ID() || got.Value != 612 {
		t.Errorf("stored reading %s: %v", b9.Messages[0].Body, err)
	}
	// A forged signature stores nothing and is not retried.
	sc.Headers.Set("URL-Signature", strings.Repeat("0", 64))
	forged, _ := sensors.NewClient(sc)
	if _, err := forged.Post(context.Background(), reading); !errors.Is(err, sensors.ErrRejected) {
		t.Errorf("forged signature: %v, want ErrRejected", err)
	}

	// Every status record names a command and a device of the campus, acknowledged by PUBACK or by reply.
	var page struct {
		Messages []struct {
			Body struct{ ID, Device, Via, Status string }
		}
	}
	restGet(t, base, token, "/v2/queues/cmd-results/messages?echo=true&limit=20", &page)
	for _, m := range page.Messages {
		if m.Body.ID == "" || !strings.HasPrefix(m.Body.Device, "b") || m.Body.Status != "acked" ||
			(m.Body.Via != "puback" && m.Body.Via != "reply") {
			t.Errorf("status record %+v", m.Body)
		}
	}
}

var appURLPattern = regexp.MustCompile(`web app at (http://\S+/)`)

// checkWebApp finds the web app's address in zedge-sim's output and checks that it serves the page with the
// campus, zedge's websocket listener and a token.
func checkWebApp(t *testing.T, stderr *zedgetest.Buffer, wantWS string) {
	t.Helper()
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; {
		if m := appURLPattern.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("zedge-sim never said where the web app is:\n%s", stderr.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	resp, err := http.Get(url + "config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg webapp.Config
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("config.json: %d %v", resp.StatusCode, err)
	}
	offices := 0
	for _, b := range cfg.Site.Buildings {
		offices += len(b.Offices)
	}
	if cfg.WebsocketURL != wantWS || cfg.ProjectID != "campus" || cfg.Token == "" || len(cfg.Site.Buildings) != 2 || offices != 10 {
		t.Errorf("web app config: ws %s project %s token %v, %d buildings, %d offices", cfg.WebsocketURL,
			cfg.ProjectID, cfg.Token != "", len(cfg.Site.Buildings), offices)
	}
	page, err := http.Get(url)
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v", url, err)
	}
	page.Body.Close()
}
