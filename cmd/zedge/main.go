package main

import (
	"os"

	"github.com/zedge-io/zedge/cmd/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
