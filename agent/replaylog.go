package agent

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"time"
)

// The replay log's file format. It starts with replayMagic; each record is
//
//	length   uint32, big-endian: the bytes of until and jti (9 to 72)
//	checksum uint32, big-endian: CRC-32C of length, until and jti
//	until    int64, big-endian: Unix seconds after which the entry may go
//	jti      the token ID
//
// A record that is cut short or whose checksum does not match ends the log:
// it can only be a write a full disk or a crash cut short (records are
// only ever appended, and the file is only rewritten whole by rename), and
// everything before it is whole.
const (
	replayMagic        = "doorman replay log v2\n"
	replayRecordHeader = 8
	maxJTILength       = 64
	replayUntilSize    = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// replayEntry is one record of the log.
type replayEntry struct {
	jti   string
	until time.Time
}

// Formats parseReplayLog recognises.
const (
	replayFormatRecords = iota // replayMagic and records (or empty)
	replayFormatLines          // the old "<unix seconds> <jti>\n" lines
)

// appendReplayRecord appends the record of jti, kept until Unix second
// until, to buf.
func appendReplayRecord(buf []byte, until int64, jti string) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(replayUntilSize+len(jti)))
	buf = append(buf, 0, 0, 0, 0) // checksum, below
	buf = binary.BigEndian.AppendUint64(buf, uint64(until))
	buf = append(buf, jti...)
	rec := buf[start:]
	sum := crc32.Update(crc32.Checksum(rec[:4], castagnoli), castagnoli, rec[replayRecordHeader:])
	binary.BigEndian.PutUint32(rec[4:8], sum)
	return buf
}

// parseReplayLog reads a replay log: its entries, how many leading bytes
// are whole (the rest is a torn tail to cut off), and its format. An
// empty file, or one holding only a prefix of the magic (which a rewrite
// never leaves, but costs nothing to accept), is an empty log in the
// record format.
func parseReplayLog(data []byte) (entries []replayEntry, valid int, format int) {
	if len(data) < len(replayMagic) && bytes.HasPrefix([]byte(replayMagic), data) {
		return nil, 0, replayFormatRecords
	}
	if !bytes.HasPrefix(data, []byte(replayMagic)) {
		return parseReplayLines(data), len(data), replayFormatLines
	}
	off := len(replayMagic)
	for {
		e, n := parseReplayRecord(data[off:])
		if n == 0 {
			return entries, off, replayFormatRecords
		}
		entries = append(entries, e)
		off += n
	}
}

// parseReplayRecord reads the record at the start of b and returns it and
// its length, or a length of 0 if b does not start with a whole, intact
// record.
func parseReplayRecord(b []byte) (replayEntry, int) {
	if len(b) < replayRecordHeader {
		return replayEntry{}, 0
	}
	n := int(binary.BigEndian.Uint32(b))
	if n <= replayUntilSize || n > replayUntilSize+maxJTILength || len(b) < replayRecordHeader+n {
		return replayEntry{}, 0
	}
	body := b[replayRecordHeader : replayRecordHeader+n]
	sum := crc32.Update(crc32.Checksum(b[:4], castagnoli), castagnoli, body)
	if sum != binary.BigEndian.Uint32(b[4:8]) {
		return replayEntry{}, 0
	}
	jti := string(body[replayUntilSize:])
	if !validJTI(jti) {
		return replayEntry{}, 0
	}
	until := int64(binary.BigEndian.Uint64(body))
	return replayEntry{jti: jti, until: time.Unix(until, 0)}, replayRecordHeader + n
}

// replayKeepForever is the forget-after time of an entry recovered from a
// torn line of the old format, whose own time is lost: such a token stays
// spent for good. There are at most as many as the disk filled up.
var replayKeepForever = time.Unix(1<<40, 0)

// parseReplayLines reads the old line format, "<unix seconds> <jti>\n".
// In it, a write the disk cut short left a fragment that the next line
// was appended to, and that line was dropped as malformed at the next
// start. When migrating, the token ID at the end of such a line is kept,
// forever (replayKeepForever), rather than forgotten.
func parseReplayLines(data []byte) []replayEntry {
	var out []replayEntry
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		exp, jti, ok := bytes.Cut(line, []byte(" "))
		if ok && validJTI(string(jti)) {
			if sec, err := strconv.ParseInt(string(exp), 10, 64); err == nil {
				out = append(out, replayEntry{jti: string(jti), until: time.Unix(sec, 0)})
				continue
			}
		}
		// A fragment and the line appended to it: keep the last field.
		if fields := bytes.Fields(line); len(fields) > 1 && validJTI(string(fields[len(fields)-1])) {
			out = append(out, replayEntry{jti: string(fields[len(fields)-1]), until: replayKeepForever})
		}
	}
	return out
}
