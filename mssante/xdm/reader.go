// SPDX-License-Identifier: Apache-2.0

package xdm

import (
	"archive/zip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"
	"strings"
)

// Errors of the archive reader.
var (
	// ErrArchive is wrapped by every structural error of an archive.
	ErrArchive = errors.New("xdm: archive")
	// ErrUnsafe is returned for an entry whose name could escape a
	// destination folder (absolute path, "..", backslash, drive letter).
	ErrUnsafe = errors.New("xdm: unsafe entry name")
	// ErrLimit is returned when the archive exceeds a Limits value.
	ErrLimit = errors.New("xdm: archive exceeds a limit")
	// ErrHashMismatch and ErrSizeMismatch are returned when a document's
	// bytes do not match its metadata.
	ErrHashMismatch = errors.New("xdm: document hash differs from METADATA.XML")
	ErrSizeMismatch = errors.New("xdm: document size differs from METADATA.XML")
)

// Limits bound what the reader accepts. Zero fields take the defaults.
type Limits struct {
	// MaxEntries is the number of zip entries (default 1,000).
	MaxEntries int
	// MaxTotalSize is the sum of the declared uncompressed sizes (default
	// 256 MiB: an MSSanté message is at most a few tens of MB, and a
	// deflated base64 PDF expands less than 2×).
	MaxTotalSize int64
	// MaxMetadataSize caps METADATA.XML (default 10 MiB).
	MaxMetadataSize int64
}

func (l *Limits) withDefaults() Limits {
	out := Limits{MaxEntries: 1000, MaxTotalSize: 256 << 20, MaxMetadataSize: 10 << 20}
	if l == nil {
		return out
	}
	if l.MaxEntries > 0 {
		out.MaxEntries = l.MaxEntries
	}
	if l.MaxTotalSize > 0 {
		out.MaxTotalSize = l.MaxTotalSize
	}
	if l.MaxMetadataSize > 0 {
		out.MaxMetadataSize = l.MaxMetadataSize
	}
	return out
}

// Archive is an XDM archive as read: its metadata and documents.
type Archive struct {
	// Subset is the folder of METADATA.XML, e.g. "IHE_XDM/SUBSET01".
	Subset    string
	Metadata  *ParsedMetadata
	Documents []*Document
	// Tolerated lists deviations accepted while reading.
	Tolerated []string
	// Others lists the other subsets found (an archive may hold several
	// submission sets; only the first, by name, is read).
	Others []string
}

// Document is one document of an archive.
type Document struct {
	Entry *DocumentEntry
	Name  string // path in the zip
	file  *zip.File
}

// OpenReader reads the directory and METADATA.XML of an XDM archive of
// the given size. Names are checked (ErrUnsafe), limits applied
// (ErrLimit), METADATA.XML found in any IHE_XDM/<subset>/ folder whatever
// the case, and each DocumentEntry mapped to its file through its URI, with
// or without the subset prefix. Documents are not read: use Document.Open
// or Archive.Verify.
func OpenReader(ra io.ReaderAt, size int64, limits *Limits) (*Archive, error) {
	lim := limits.withDefaults()
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrArchive, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries, limit %d", ErrLimit, len(zr.File), lim.MaxEntries)
	}
	a := &Archive{}
	var total uint64
	files := map[string]*zip.File{} // upper-cased name → file
	var metas []string
	for _, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		// Each size is checked against what is left of the limit, so that
		// the sum never wraps: declared sizes adding up past 2^64 passed
		// as a small total (issue 20, point 3). archive/zip then stops
		// inflating an entry at its declared size (an entry that inflates
		// beyond it fails with zip.ErrFormat), so no entry yields more than
		// the limit.
		if f.UncompressedSize64 > uint64(lim.MaxTotalSize)-total {
			return nil, fmt.Errorf("%w: declared uncompressed size above %d bytes (entry %q declares %d)", ErrLimit, lim.MaxTotalSize, f.Name, f.UncompressedSize64)
		}
		total += f.UncompressedSize64
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		up := upperASCII(f.Name)
		if _, dup := files[up]; dup {
			return nil, fmt.Errorf("%w: entry %q appears twice (names are compared ignoring case)", ErrArchive, f.Name)
		}
		files[up] = f
		dir, base := path.Split(up)
		if base == "METADATA.XML" && strings.HasPrefix(dir, "IHE_XDM/") && strings.Count(dir, "/") == 2 {
			metas = append(metas, f.Name)
		}
	}
	if len(metas) == 0 {
		return nil, fmt.Errorf("%w: no IHE_XDM/<subset>/METADATA.XML", ErrArchive)
	}
	sort.Strings(metas)
	metaName := metas[0]
	for _, m := range metas[1:] {
		a.Others = append(a.Others, path.Dir(m))
	}
	a.Subset = path.Dir(metaName)
	if a.Subset != SubsetFolder {
		a.Tolerated = append(a.Tolerated, fmt.Sprintf("subset folder %q", a.Subset))
	}
	mf := files[upperASCII(metaName)]
	if mf.UncompressedSize64 > uint64(lim.MaxMetadataSize) {
		return nil, fmt.Errorf("%w: METADATA.XML is %d bytes, limit %d", ErrLimit, mf.UncompressedSize64, lim.MaxMetadataSize)
	}
	rc, err := mf.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrArchive, metaName, err)
	}
	pm, err := ParseMetadata(rc, lim.MaxMetadataSize)
	rc.Close()
	if err != nil {
		return nil, err
	}
	a.Metadata = pm
	a.Tolerated = append(a.Tolerated, pm.Tolerated...)
	for i := range pm.Documents {
		e := &pm.Documents[i]
		f, how, err := resolveURI(files, a.Subset, e.URI)
		if err != nil {
			return nil, fmt.Errorf("%w: document %s: %w", ErrArchive, e.EntryUUID, err)
		}
		if how != "" {
			a.Tolerated = append(a.Tolerated, how)
		}
		a.Documents = append(a.Documents, &Document{Entry: e, Name: f.Name, file: f})
	}
	return a, nil
}

// upperASCII upper-cases the ASCII letters of a zip entry name and
// nothing else. Names are compared ignoring ASCII case only: the zip
// format compares names byte for byte, XDM's folder and file names are
// upper-case ASCII after ISO 9660 (IHE ITI TF-1 XDM; archives in the field
// use lower case too, hence the tolerance), and Unicode case folding would
// make names the archive means as different equal: strings.ToUpper turns
// "IHE_XDM/ſUBSET01/METADATA.XML" (long s) into the name of
// IHE_XDM/SUBSET01 (issue 20, point 5), and K (Kelvin sign) or ı into ASCII
// letters too.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// checkName refuses names that could escape a destination folder.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrUnsafe)
	case strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("%w: %q", ErrUnsafe, name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("%w: %q is absolute", ErrUnsafe, name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("%w: %q has a drive letter", ErrUnsafe, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("%w: %q climbs out of the archive", ErrUnsafe, name)
		}
	}
	return nil
}

// resolveURI finds the file of a DocumentEntry URI: relative to the subset
// folder (the IHE rule), or prefixed with the subset or IHE_XDM/subset.
func resolveURI(files map[string]*zip.File, subset, uri string) (*zip.File, string, error) {
	if uri == "" {
		return nil, "", errors.New("no URI slot")
	}
	if err := checkName(uri); err != nil {
		return nil, "", err
	}
	up := upperASCII(uri)
	sub := upperASCII(subset)
	if f, ok := files[sub+"/"+up]; ok {
		return f, "", nil
	}
	if f, ok := files[up]; ok && strings.HasPrefix(up, "IHE_XDM/") {
		return f, fmt.Sprintf("URI %q includes the IHE_XDM folder", uri), nil
	}
	if f, ok := files["IHE_XDM/"+up]; ok {
		return f, fmt.Sprintf("URI %q includes the subset folder", uri), nil
	}
	return nil, "", fmt.Errorf("URI %q: no such file in %s", uri, subset)
}

// Open returns the document's bytes, checked against the metadata: when
// the reader reaches EOF it returns ErrSizeMismatch or ErrHashMismatch
// instead of io.EOF if the size or SHA-1 differ, and it fails as soon as
// more bytes than the metadata's size are read.
//
// Callers must check the error of Close: a consumer that stops before EOF
// (cda.NewReader reading the header and body, cda.ReadHeader) has not seen
// the end of the document, and the bytes it used may not be the ones the
// metadata describes. Close reads the rest of the document (no more than
// its declared size plus one byte) and returns the size or hash mismatch,
// or the read error, naming the document; nil means the whole document is
// the one the metadata describes. Close returns the same result when
// called again.
func (d *Document) Open() (io.ReadCloser, error) {
	rc, err := d.file.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrArchive, d.Name, err)
	}
	return &verifier{rc: rc, h: sha1.New(), d: d}, nil
}

type verifier struct {
	rc io.ReadCloser
	h  hash.Hash
	n  int64
	d  *Document
	// checked is set once the verdict is known: err is then the
	// mismatch (nil when the document is intact).
	checked bool
	err     error
	// closed is set by Close, closeErr is what it returned.
	closed   bool
	closeErr error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.checked {
		if v.err != nil {
			return 0, v.err
		}
		return 0, io.EOF
	}
	if v.closed {
		return 0, fmt.Errorf("%w: %s: read after Close", ErrArchive, v.d.Name)
	}
	n, err := v.rc.Read(p)
	if errors.Is(err, zip.ErrFormat) {
		// archive/zip's verdict on an entry that inflates to another size
		// than its declared one: it stops at that size.
		return n, v.verdict(fmt.Errorf("%w: %s: inflates to another size than the %d bytes it declares: %w", ErrArchive, v.d.Name, v.d.file.UncompressedSize64, err))
	}
	v.h.Write(p[:n])
	v.n += int64(n)
	if want := v.d.Entry.Size; want >= 0 && v.n > want {
		return n, v.verdict(fmt.Errorf("%w: %s: more than %d bytes", ErrSizeMismatch, v.d.Name, want))
	}
	if errors.Is(err, io.EOF) {
		if err := v.verdict(v.check()); err != nil {
			return n, err
		}
		return n, io.EOF
	} else if err != nil {
		return n, fmt.Errorf("%w: %s: %w", ErrArchive, v.d.Name, err)
	}
	return n, nil
}

// check compares what was read, at EOF, with the metadata.
func (v *verifier) check() error {
	if want := v.d.Entry.Size; want >= 0 && v.n != want {
		return fmt.Errorf("%w: %s: %d bytes, metadata says %d", ErrSizeMismatch, v.d.Name, v.n, want)
	}
	got := hex.EncodeToString(v.h.Sum(nil))
	if !strings.EqualFold(got, v.d.Entry.Hash) {
		return fmt.Errorf("%w: %s: SHA-1 %s, metadata says %q", ErrHashMismatch, v.d.Name, got, v.d.Entry.Hash)
	}
	return nil
}

// verdict records the result of the check and returns it.
func (v *verifier) verdict(err error) error {
	v.checked, v.err = true, err
	return err
}

// Close reads what the caller left of the document, bounded by its
// declared size (the metadata's, or the zip's when the metadata has none)
// plus one byte, and returns the verdict: the mismatch or read error, nil
// when the document is intact.
func (v *verifier) Close() error {
	if v.closed {
		return v.closeErr
	}
	var err error
	if !v.checked {
		limit := v.d.Entry.Size
		if limit < 0 {
			limit = int64(min(v.d.file.UncompressedSize64, uint64(1<<62)))
		}
		if rest := limit + 1 - v.n; rest > 0 {
			_, err = io.Copy(io.Discard, io.LimitReader(v, rest))
		}
		if err == nil && !v.checked {
			// The bound was reached without EOF (only possible when the
			// metadata gives no size).
			err = v.verdict(fmt.Errorf("%w: %s: more than %d bytes", ErrSizeMismatch, v.d.Name, limit))
		}
	} else {
		err = v.err
	}
	v.closed = true
	if cerr := v.rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %s: %w", ErrArchive, v.d.Name, cerr)
	}
	v.closeErr = err
	return err
}

// Verify reads every document and checks its size and SHA-1 against the
// metadata. It reads them all and reports every document that fails, each
// error naming its document, joined (errors.Join: errors.Is finds
// ErrHashMismatch or ErrSizeMismatch in it); nil when all are intact.
func (a *Archive) Verify() error {
	var errs []error
	for _, d := range a.Documents {
		rc, err := d.Open()
		if err == nil {
			err = rc.Close() // reads the document to its end and checks it
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
