package metrics

import (
	"bytes"
	"fmt"
	"io"

	"github.com/finrecon/finrecon/internal/atomicfile"
)

// WriteFile writes the set to path atomically: node_exporter's textfile
// collector may read the file at any moment and must see either the old
// content or the new, never half of it.
func (s *Set) WriteFile(path string) error {
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		return err
	}
	// 0644: node_exporter usually runs as another user. The temporary
	// name does not end in .prom, so the collector never reads it.
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}
