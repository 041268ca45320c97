package main

// The API creates (the API issue's write bench): after the pages and the
// export of a size, --api-creates songs made through POST /api/v1/songsview/
// by createClients clients at once on each app, each answer a 201 or the run
// fails, timed as records per second and p50/p99 latency. It runs last as
// it adds songs, which the pages and the export must not see.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// createClients is the number of clients that create at once.
const createClients = 8

// benchCreates creates n songs on t through the API, createClients at a
// time, each titled uniquely, rated i%10 and in one of the first albums by
// name (every fourth in none), and returns the outcome: the latency of each
// 201, and every other answer as a failure.
func benchCreates(ctx context.Context, t target, n int) (loadResult, error) {
	return createSongs(ctx, t, createClients, n, time.Time{})
}

// createSongs creates songs on t through the API as benchCreates does,
// clients at a time, until n are asked for (n > 0) or until passes (not
// zero), whichever comes first; a create in flight then completes.
func createSongs(ctx context.Context, t target, clients, n int, until time.Time) (loadResult, error) {
	albums, err := albumIDs(ctx, t)
	if err != nil {
		return loadResult{}, err
	}
	run := randomHex(4) // titles unique across runs on a kept database
	var next atomic.Int64
	ws := make([]loadResult, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for k := range ws {
		w := &ws[k]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if (n > 0 && i >= n) || (!until.IsZero() && !time.Now().Before(until)) {
					return
				}
				song := map[string]any{"title": fmt.Sprintf("API Create %s %d", run, i), "rating": i % 10, "album": nil}
				if i%4 != 3 && len(albums) > 0 {
					song["album"] = albums[i%len(albums)]
				}
				body, _ := json.Marshal(song)
				t0 := time.Now()
				status, err := t.post(ctx, apiPath, body)
				d := time.Since(t0)
				if ctx.Err() != nil {
					return
				}
				w.note(d, status, err, http.StatusCreated)
			}
		}()
	}
	wg.Wait()
	r := loadResult{server: t.name, elapsed: time.Since(start)}
	for _, w := range ws {
		r.add(w)
	}
	r.finish()
	return r, ctx.Err()
}

// post POSTs body as JSON to path and returns the status, the answer read
// to the end.
func (t target) post(ctx context.Context, path string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	maps.Copy(req.Header, t.header)
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// albumIDs returns the ids of the first 100 albums by name on t, through
// the API: the ids the creates refer to, digits or ObjectIds.
func albumIDs(ctx context.Context, t target) ([]string, error) {
	body, err := t.get(ctx, "/api/v1/albumview/?page_size=100")
	if err != nil {
		return nil, fmt.Errorf("album ids: %w", err)
	}
	var list struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("album ids: %w", err)
	}
	return list.IDs, nil
}
