// Package redistest starts private Redis servers for tests: a single instance (StartSingle) or a Redis Cluster of
// masters without replicas (StartCluster), each redis-server a child process listening on a free 127.0.0.1 port
// with its files in t.TempDir(), no persistence (--save "" --appendonly no), stopped in t.Cleanup.
//
// StartServer returns a Server that the test can Kill (SIGKILL, a crash) and Restart on the same port and
// directory, with extra redis-server arguments such as "--appendonly yes", for persistence tests.
//
// Starting a cluster costs a second or two (redis-cli --cluster create, then waiting until every node reports
// cluster_state:ok), so a package can share one single instance and one 3-master cluster across its tests:
// call Main from TestMain and SharedSingle / SharedCluster from the tests, which isolate themselves by key prefix
// or by project names. Main stops the shared servers when the tests are done.
//
// redis-server (and redis-cli for clusters) must be installed: on Debian, `bash scripts/deps.sh` installs
// redis-server and redis-tools. When they are missing the calling test fails with that instruction; it is never
// skipped.
package redistest
