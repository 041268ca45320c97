package main

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"strconv"
)

// The data shapes the templates read: the same field names as view.Page and
// admin.listPage.
type menuItem struct{ Title, URL string }

type menuCategory struct {
	Name  string
	Items []menuItem
}

type page struct {
	User    string
	CSRF    string
	Flashes []string
	AppName string
	Title   string
	Menu    []menuCategory
	Path    string
	Data    any
}

type cell struct{ Label, Text, Href string }

type column struct{ Label, SortURL, SortDir string }

type row struct {
	Cells                       []cell
	ShowURL, EditURL, DeleteURL string
}

type hidden struct{ Name, Value string }

type listPage struct {
	Title, Singular  string
	ListURL, AddURL  string
	Q, SearchLabel   string
	SearchMax        int // the search field's maxlength, the app's admin.MaxSearchRunes
	Keep             []hidden
	Filtered         bool
	Notices, Filters []string
	Columns          []column
	Rows             []row
	Total            int64
	AtLeast          bool
	Page, Pages      int
	PrevURL, NextURL string
	ExportURL        string
}

var menu = []menuCategory{{Name: "Model Views", Items: []menuItem{
	{Title: "Album View", URL: "/albumview/list/"},
	{Title: "Song View", URL: "/songsview/list/"},
}}}

// list handles "GET /songsview/list/": the song list page, built as the
// app's admin builds it.
func (s *server) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := parse(r.URL.Query())
	where, args, indexed := s.where(p, !s.plain)
	total, atLeast, err := s.total(ctx, where, args)
	if err != nil {
		fail(w, err)
		return
	}
	if indexed {
		// Dense matches: walk the sort order instead, as the app does
		// (store.Model.walkBeatsIndex).
		walk := atLeast
		if !atLeast && total > 0 {
			rows, _, err := s.total(ctx, "", nil)
			if err != nil {
				fail(w, err)
				return
			}
			walk = int64(p.page*p.pageSize)*rows/total <= walkBudget
		}
		if walk {
			where, args, _ = s.where(p, false)
		}
	}
	songs, err := s.page(ctx, p, where, args, total, atLeast)
	if err != nil {
		fail(w, err)
		return
	}
	pages := int((total + int64(p.pageSize) - 1) / int64(p.pageSize))
	if len(songs) == 0 && !atLeast && pages > 0 && p.page > pages {
		// Past the end: the last page, as the app shows.
		p.page = pages
		if songs, err = s.page(ctx, p, where, args, total, atLeast); err != nil {
			fail(w, err)
			return
		}
	}
	if atLeast {
		pages = max(pages, p.page)
		if len(songs) == p.pageSize {
			pages = p.page + 1
		}
	}

	data := listPage{Title: "Song View", Singular: "Song", ListURL: listPath, AddURL: "/songsview/add",
		Q: p.q, SearchLabel: "Title", SearchMax: maxSearchRunes, Filtered: p.q != "" || p.album != nil || p.ratingGte != nil,
		Total: total, AtLeast: atLeast, Page: p.page, Pages: max(pages, 1)}
	if p.album != nil {
		data.Keep = append(data.Keep, hidden{"album", p.albumRaw})
		data.Filters = append(data.Filters, "Album = "+p.albumRaw)
	}
	if p.ratingGte != nil {
		data.Keep = append(data.Keep, hidden{"rating__gte", p.ratingRaw})
		data.Filters = append(data.Filters, "Rating ≥ "+p.ratingRaw)
	}
	current := p.sort
	if p.desc {
		current = "-" + p.sort
	}
	data.Keep = append(data.Keep, hidden{"sort", current})
	if p.pageSize != defaultPageSize {
		data.Keep = append(data.Keep, hidden{"page_size", strconv.Itoa(p.pageSize)})
	}
	for _, c := range []struct{ name, label string }{{"title", "Title"}, {"rating", "Rating"}} {
		col := column{Label: c.label}
		next := c.name
		if p.sort == c.name {
			col.SortDir = "asc"
			if p.desc {
				col.SortDir = "desc"
			} else {
				next = "-" + c.name
			}
		}
		col.SortURL = p.url(1, next)
		data.Columns = append(data.Columns, col)
	}
	data.Columns = append(data.Columns, column{Label: "Album"})
	data.Rows = make([]row, 0, len(songs))
	for _, sg := range songs {
		id := strconv.FormatInt(sg.id, 10)
		rw := row{ShowURL: "/songsview/show/" + id, EditURL: "/songsview/edit/" + id, DeleteURL: "/songsview/delete/" + id}
		album := cell{Label: "Album"}
		if sg.albumID.Valid {
			album.Text = sg.albumName.String
			album.Href = "/albumview/show/" + strconv.FormatInt(sg.albumID.Int64, 10)
		}
		rw.Cells = []cell{
			{Label: "Title", Text: sg.title, Href: rw.ShowURL},
			{Label: "Rating", Text: strconv.FormatInt(sg.rating, 10)},
			album,
		}
		data.Rows = append(data.Rows, rw)
	}
	data.ExportURL = p.exportURL(current)
	if p.page > 1 {
		data.PrevURL = p.url(p.page-1, current)
	}
	if p.page < pages {
		data.NextURL = p.url(p.page+1, current)
	}

	var buf bytes.Buffer
	pg := page{User: user, CSRF: csrf, AppName: s.app, Title: "Song View", Menu: menu, Path: r.URL.Path, Data: data}
	if err := s.tmpl.Execute(&buf, pg); err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// fail logs err and answers 500 with no detail, as the app does.
func fail(w http.ResponseWriter, err error) {
	log.Printf("floor: %v", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, "Internal error")
}
