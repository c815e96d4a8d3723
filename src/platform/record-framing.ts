/**
 * node:zlib's CRC-32 behind core's record framing. Importing this module installs it; the
 * simulator's disk and the real storage import the framing from here.
 */
import { crc32 } from "node:zlib";
import { installCrc32 } from "../core/record-framing.js";

installCrc32(crc32);

export {
  frameRecord,
  maxRecordBytes,
  type ReadRecordsResult,
  readRecords,
  recordHeaderBytes,
} from "../core/record-framing.js";
