package mongostore

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// stripedLocks are mutexes picked by a document's id: a fixed number, so
// memory stays bounded whatever the number of documents, at the cost of
// unrelated documents sometimes sharing one.
type stripedLocks [64]sync.Mutex

func (l *stripedLocks) lock(oid bson.ObjectID) (unlock func()) {
	var h uint32
	for _, b := range oid {
		h = h*31 + uint32(b)
	}
	mu := &l[h%uint32(len(l))]
	mu.Lock()
	return mu.Unlock
}
