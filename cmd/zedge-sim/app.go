package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	firmwaresim "github.com/zedge-io/zedge/firmware-sim"
	"github.com/zedge-io/zedge/firmware-sim/webapp"
	"github.com/zedge-io/zedge/signing"
)

// siteOf turns the campus layout into the web app's site.
func siteOf(name string, l firmwaresim.Layout) webapp.Site {
	site := webapp.Site{Name: name}
	for bi, b := range l.Buildings {
		building := webapp.Building{ID: b.ID, Name: fmt.Sprintf("Building %d", bi+1)}
		for oi, o := range b.Offices {
			office := webapp.Office{ID: o.ID, Name: fmt.Sprintf("Office %d.%d", bi+1, oi+1),
				Floor: strconv.Itoa(o.Floor), Thermostat: o.Thermostat, ACs: o.ACs}
			for _, s := range o.Sensors {
				office.Sensors = append(office.Sensors, s.ID)
			}
			building.Offices = append(building.Offices, office)
		}
		site.Buildings = append(site.Buildings, building)
	}
	return site
}

// appToken is the member token the page uses over the websocket (auth jwt); "" in auth none.
func appToken(secret, project string) (string, error) {
	if secret == "" {
		return "", nil
	}
	s, err := signing.NewHS256Signer("default", []byte(secret))
	if err != nil {
		return "", err
	}
	c, err := signing.NewClaims("zedge-sim-webapp", project, []string{signing.RoleMember}, time.Now(), 24*time.Hour)
	if err != nil {
		return "", err
	}
	return signing.IssueToken(s, c)
}

// serveApp serves the climate-control web app on addr and returns its URL and a stop function.
func serveApp(addr string, cfg webapp.Config) (string, func(), error) {
	if err := cfg.Validate(); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: webapp.Handler(cfg), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/", func() { _ = srv.Close() }, nil
}
