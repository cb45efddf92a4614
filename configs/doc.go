// Package configs holds zedge's configuration files. zedge.yaml is the default configuration of the zedge binary,
// embedded at build time so the binary runs with no file at all; it is also the reference an operator reads, so
// every option in it carries a comment saying what it does. A -config file uses the same schema and needs only
// the keys it changes.
package configs
