// Command zedge is an edge message broker that speaks OpenStack Zaqar's v2 API. Run `zedge help` for usage;
// the whole lifecycle lives in package cmd/internal/app.
package main

import (
	"os"

	"github.com/zedge-io/zedge/cmd/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
