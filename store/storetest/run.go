package storetest

import (
	"testing"

	"github.com/zedge-io/zedge/store"
)

// NewStore opens a fresh, empty store for one test; it registers its own cleanup (closing the store, ignoring
// store.ErrClosed).
type NewStore func(t *testing.T) store.Store

// Run runs the conformance suite against the backend that newStore opens. Every case gets its own store.
func Run(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Queues/CreateGet", testQueueCreateGet},
		{"Queues/ListCount", testQueueListCount},
		{"Queues/Update", testQueueUpdate},
		{"Queues/UpdateAtomic", testQueueUpdateAtomic},
		{"Queues/Delete", testQueueDelete},
		{"Queues/Stats", testQueueStats},
		{"Messages/PostList", testPostList},
		{"Messages/FIFOAcrossBatches", testFIFO},
		{"Messages/Paging", testPaging},
		{"Messages/BadMarkers", testBadMarkers},
		{"Messages/Echo", testEcho},
		{"Messages/IncludeClaimed", testIncludeClaimed},
		{"Messages/Delayed", testDelayed},
		{"Messages/Expiry", testMessageExpiry},
		{"Messages/Get", testGetMessages},
		{"Messages/DeleteRules", testDeleteRules},
		{"Messages/DeleteMany", testDeleteMany},
		{"Messages/Pop", testPop},
		{"Messages/Purge", testPurge},
		{"Claims/Create", testClaimCreate},
		{"Claims/LifeExtension", testClaimLifeExtension},
		{"Claims/Expiry", testClaimExpiry},
		{"Claims/Release", testClaimRelease},
		{"Claims/ChecksEveryMessage", testClaimChecksEveryMessage},
		{"Claims/Get", testClaimGet},
		{"Claims/DeadLetter", testDeadLetter},
		{"Claims/DeadLetterMixed", testDeadLetterMixed},
		{"Claims/DeadLetterOriginalTTL", testDeadLetterOriginalTTL},
		{"Claims/NoDeadLetterWithoutBoth", testNoDeadLetter},
		{"Subscriptions/CRUD", testSubscriptionCRUD},
		{"Subscriptions/Duplicate", testSubscriptionDuplicate},
		{"Subscriptions/Expiry", testSubscriptionExpiry},
		{"Subscriptions/ListPaging", testSubscriptionList},
		{"Subscriptions/Purge", testSubscriptionPurge},
		{"Isolation/Projects", testProjectIsolation},
		{"Isolation/AmbiguousNames", testAmbiguousNames},
		{"Concurrency/DisjointClaims", testConcurrentClaims},
		{"Concurrency/Posters", testConcurrentPosters},
		{"Concurrency/Mixed", testConcurrentMixed},
		{"Concurrency/ReadYourWrites", testReadYourWrites},
		{"Concurrency/CrossDeadLetter", testConcurrentCrossDeadLetter},
		{"Lifecycle/HealthCapabilities", testHealth},
		{"Lifecycle/Closed", testClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newStore(t))
		})
	}
}
