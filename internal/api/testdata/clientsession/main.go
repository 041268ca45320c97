// Command clientsession drives the README's session through a client that
// ogen generated from the app's /api/v1/_openapi: two albums, a song
// rated 9 on the first, counted by title, moved to the second, read back
// with its album's label, deleted, then not found; then a user with an
// internationalised address, found by name. TestGeneratedClient
// generates ./apiclient (not committed), builds this once and runs it
// against the app on each backend:
//
//	clientsession -url http://127.0.0.1:PORT   (token in $API_TOKEN)
//
// It prints each step and exits 1 at the first answer that is not the
// one expected.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"musicadmin/internal/api/testdata/clientsession/apiclient"
)

// token is the security source: the bearer token of every call.
type token string

func (t token) BearerAuth(context.Context, apiclient.OperationName) (apiclient.BearerAuth, error) {
	return apiclient.BearerAuth{Token: string(t)}, nil
}

func main() {
	url := flag.String("url", "", "the app's base URL")
	flag.Parse()
	tok := os.Getenv("API_TOKEN")
	if *url == "" || tok == "" {
		fmt.Fprintln(os.Stderr, "usage: API_TOKEN=TOKEN clientsession -url URL")
		os.Exit(2)
	}
	c, err := apiclient.NewClient(*url, token(tok))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err = session(ctx, c)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}

// unexpected is an answer other than the one a step expects.
func unexpected(step string, res any, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	return fmt.Errorf("%s: unexpected answer %T %+v", step, res, res)
}

func createAlbum(ctx context.Context, c *apiclient.Client, name string) (string, error) {
	res, err := c.CreateAlbum(ctx, &apiclient.AlbumCreate{Name: name})
	created, ok := res.(*apiclient.AlbumOneHeaders)
	if !ok {
		return "", unexpected("create album "+name, res, err)
	}
	if created.Response.Result.Name != name || created.Response.ID == "" {
		return "", fmt.Errorf("create album %s: stored as %+v", name, created.Response)
	}
	fmt.Printf("created album %s: %s\n", name, created.Response.ID)
	return created.Response.ID, nil
}

func session(ctx context.Context, c *apiclient.Client) error {
	album1, err := createAlbum(ctx, c, "Album1")
	if err != nil {
		return err
	}
	album2, err := createAlbum(ctx, c, "Album2")
	if err != nil {
		return err
	}

	res, err := c.CreateSong(ctx, &apiclient.SongCreate{Title: "Song1",
		Rating: apiclient.NewOptNilInt(9), Album: apiclient.NewOptNilString(album1)})
	created, ok := res.(*apiclient.SongOneHeaders)
	if !ok {
		return unexpected("create Song1", res, err)
	}
	song := created.Response
	if song.Result.Rating != 9 || song.Result.Album.Value != album1 || created.ETag.Value != `"`+song.Version+`"` {
		return fmt.Errorf("create Song1: stored as %+v, ETag %q", song, created.ETag.Value)
	}
	fmt.Printf("created song Song1: %s, version %s\n", song.ID, song.Version)

	dupRes, err := c.CreateSong(ctx, &apiclient.SongCreate{Title: "Song1"})
	dup, ok := dupRes.(*apiclient.CreateSongUnprocessableEntity)
	if !ok {
		return unexpected("create Song1 again", dupRes, err)
	}
	if dup.Errors.Value["title"] == "" {
		return fmt.Errorf("create Song1 again: no message beside title: %+v", dup)
	}
	fmt.Printf("Song1 again refused: %s\n", dup.Errors.Value["title"])

	listRes, err := c.ListSongs(ctx, apiclient.ListSongsParams{Title: apiclient.NewOptString("Song1")})
	list, ok := listRes.(*apiclient.SongMany)
	if !ok {
		return unexpected("list title=Song1", listRes, err)
	}
	if list.Count != 1 || len(list.Ids) != 1 || list.Ids[0] != song.ID {
		return fmt.Errorf("list title=Song1: count %d, ids %v; want 1, [%s]", list.Count, list.Ids, song.ID)
	}
	fmt.Printf("songs titled Song1: %d\n", list.Count)

	patchRes, err := c.PatchSong(ctx, &apiclient.SongPatch{Album: apiclient.NewOptNilString(album2)},
		apiclient.PatchSongParams{ID: song.ID, IfMatch: apiclient.NewOptString(`"` + song.Version + `"`)})
	patched, ok := patchRes.(*apiclient.GetSongOKHeaders)
	if !ok {
		return unexpected("move Song1 to Album2", patchRes, err)
	}
	if patched.Response.Result.Album.Value != album2 || patched.Response.Result.Rating != 9 {
		return fmt.Errorf("move Song1 to Album2: stored as %+v", patched.Response.Result)
	}
	fmt.Printf("moved Song1 to Album2, version %s\n", patched.Response.Version)

	getRes, err := c.GetSong(ctx, apiclient.GetSongParams{ID: song.ID, Include: apiclient.NewOptString("album")})
	got, ok := getRes.(*apiclient.GetSongOKHeaders)
	if !ok {
		return unexpected("get Song1", getRes, err)
	}
	if label := got.Response.Included.Value["album"][album2]; got.Response.Result.Album.Value != album2 || label != "Album2" {
		return fmt.Errorf("get Song1: album %q labelled %q, want %s labelled Album2", got.Response.Result.Album.Value, label, album2)
	}
	fmt.Printf("Song1 is on %s\n", got.Response.Included.Value["album"][album2])

	delRes, err := c.DeleteSong(ctx, apiclient.DeleteSongParams{ID: song.ID})
	deleted, ok := delRes.(*apiclient.DeleteSongOK)
	if !ok {
		return unexpected("delete Song1", delRes, err)
	}
	fmt.Println(deleted.Message)

	goneRes, err := c.GetSong(ctx, apiclient.GetSongParams{ID: song.ID})
	if _, ok := goneRes.(*apiclient.GetSongNotFound); !ok {
		return unexpected("get Song1 deleted", goneRes, err)
	}
	fmt.Println("Song1: not found")
	return user(ctx, c)
}

// user creates a user with an internationalised address, active left
// out (the document's default: true), and finds them by name.
func user(ctx context.Context, c *apiclient.Client) error {
	const email = "josé@exämple.com"
	res, err := c.CreateUser(ctx, &apiclient.UserCreate{Username: "jose", FirstName: "José", LastName: "Núñez",
		Email: email, Password: "a-long-password-123"})
	created, ok := res.(*apiclient.UserOneHeaders)
	if !ok {
		return unexpected("create user jose", res, err)
	}
	if u := created.Response.Result; u.Email != email || !u.Active {
		return fmt.Errorf("create user jose: stored as %+v, want %s, active", u, email)
	}
	listRes, err := c.ListUsers(ctx, apiclient.ListUsersParams{Username: apiclient.NewOptString("jose")})
	list, ok := listRes.(*apiclient.UserMany)
	if !ok {
		return unexpected("list username=jose", listRes, err)
	}
	if list.Count != 1 || list.Result[0].Email != email {
		return fmt.Errorf("list username=jose: %+v", list)
	}
	fmt.Printf("user jose: %s, active\n", list.Result[0].Email)
	return nil
}
