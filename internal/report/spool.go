package report

// Why this file exists. A recon sheet's rows are compressed while they are
// being written, on the second core, instead of after all of them were
// written: the workbook is ready sooner, and the spool on disk is the
// compressed size (about 200 MB for a million breaks) instead of 1.5 GB of
// XML. The package writer later builds the sheet's zip entry from three
// deflate segments, the frame's head, these rows, the frame's tail: each
// segment but the last ends with a sync flush, which leaves the stream
// byte-aligned and not final, so their concatenation is one valid deflate
// stream. The entry's CRC-32 is combined from the segments' (crc32Combine).

import (
	"bufio"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
)

// Sizes of the buffers rows are handed to the compressor in: a buffer is
// sent once it holds spoolChunk bytes; spoolBuffers of them circulate.
const (
	spoolChunk   = 1 << 20
	spoolBuffers = 4
)

// rowSpool receives a recon sheet's rows, as XML, and compresses them into
// a temporary file in the background.
type rowSpool struct {
	file *os.File
	// cur is the buffer the encoder appends rows to; send hands it over.
	cur  []byte
	work chan []byte
	free chan []byte
	done chan error
	// Set by finish: the uncompressed size and CRC-32 of the rows, and the
	// compressed size of the file.
	size       int64
	crc        uint32
	compressed int64
	finished   bool
	err        error
}

func newRowSpool(dir string) (*rowSpool, error) {
	f, err := os.CreateTemp(dir, ".report-rows-*.tmp")
	if err != nil {
		return nil, err
	}
	s := &rowSpool{
		file: f,
		cur:  make([]byte, 0, spoolChunk+spoolChunk/8),
		work: make(chan []byte, spoolBuffers),
		free: make(chan []byte, spoolBuffers),
		done: make(chan error, 1),
	}
	for range spoolBuffers - 1 {
		s.free <- make([]byte, 0, spoolChunk+spoolChunk/8)
	}
	go s.compress()
	return s, nil
}

// filled hands the current buffer to the compressor once it is full.
func (s *rowSpool) filled() {
	if len(s.cur) >= spoolChunk {
		s.send()
	}
}

func (s *rowSpool) send() {
	s.work <- s.cur
	s.cur = <-s.free
}

// compress runs in its own goroutine: it compresses the buffers it is sent
// into the file, counting and checksumming what it compresses.
func (s *rowSpool) compress() {
	bw := bufio.NewWriterSize(s.file, 1<<20)
	fw, err := flate.NewWriter(bw, flate.BestSpeed)
	for buf := range s.work {
		if err == nil {
			s.crc = crc32.Update(s.crc, crc32.IEEETable, buf)
			s.size += int64(len(buf))
			_, err = fw.Write(buf)
		}
		s.free <- buf[:0]
	}
	if err == nil {
		// A sync flush, not Close: the segment must not end the stream.
		err = fw.Flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	s.done <- err
}

// finish hands over the last rows and waits for the compressor to end. It
// may be called more than once; later calls return the first one's result.
func (s *rowSpool) finish() error {
	if s.finished {
		return s.err
	}
	s.finished = true
	if len(s.cur) > 0 {
		s.work <- s.cur
	}
	close(s.work)
	s.err = <-s.done
	if s.err == nil {
		var info os.FileInfo
		if info, s.err = s.file.Stat(); s.err == nil {
			s.compressed = info.Size()
		}
	}
	if s.err != nil {
		s.err = fmt.Errorf("compress rows: %w", s.err)
	}
	return s.err
}

// remove stops the compressor, if running, and deletes the file.
func (s *rowSpool) remove() error {
	s.finish()
	if err := s.file.Close(); err != nil {
		return err
	}
	return os.Remove(s.file.Name())
}

// crc32Combine returns the CRC-32 (IEEE) of a‖b from crcA, the CRC of a,
// crcB, the CRC of b, and lenB, the length of b. It is zlib's
// crc32_combine: appending lenB zero bytes to a is a linear map on its CRC,
// applied by repeated squaring of the one-zero-bit operator.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32
	odd[0] = 0xedb88320 // the reflected IEEE polynomial: one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // the next power of two, in bytes
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

// gf2Times multiplies the 32×32 bit matrix mat by vec over GF(2).
func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

// gf2Square sets square to mat × mat.
func gf2Square(square, mat *[32]uint32) {
	for n := range square {
		square[n] = gf2Times(mat, mat[n])
	}
}
