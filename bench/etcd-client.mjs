// etcd v3 KV Put clients over gRPC for the etcd side of bench/etcd.sh, in the PutClient shape of
// src/bench/put-load.ts. Both encode PutRequest by hand instead of loading etcd's .proto files:
// the request is two length-delimited fields.
//
// Two transports: "grpc-js" (@grpc/grpc-js, the standard Node gRPC library) and "http2" (gRPC's
// unary wire protocol spoken directly over node:http2). grpc-js spends several times the CPU per
// call of the bare protocol, enough on a 2-vCPU machine for the load generator rather than etcd
// to set the pace; "http2" shows what etcd does when the client is about as cheap as lockstep's.
import http2 from "node:http2";

/** gRPC status names by code (grpc/status.h), for error kinds in the report. */
const status = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

const putMethod = "/etcdserverpb.KV/Put";

/** Bytes a protobuf varint of `n` takes (n < 2^31 here: keys and values are at most a few MB). */
function varintSize(n) {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(buf, pos, n) {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/**
 * etcdserverpb.PutRequest{key, value}: field 1 and field 2, wire type 2 (length-delimited), so
 * the tags are 1<<3|2 = 0x0a and 2<<3|2 = 0x12. lease, prev_kv and the ignore flags stay at their
 * defaults, which proto3 encodes by leaving them out. `headroom` bytes are left free in front for
 * a frame header.
 */
export function encodePutRequest(key, value, headroom = 0) {
  const keyBytes = Buffer.byteLength(key);
  const valueBytes = Buffer.byteLength(value);
  const buf = Buffer.allocUnsafe(
    headroom + 2 + varintSize(keyBytes) + keyBytes + varintSize(valueBytes) + valueBytes,
  );
  let pos = headroom;
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, keyBytes);
  pos += buf.write(key, pos);
  buf[pos++] = 0x12;
  pos = writeVarint(buf, pos, valueBytes);
  buf.write(value, pos);
  return buf;
}

/**
 * Reads a varint at `pos` as a Number (exact below 2^53, which covers revisions; member and
 * cluster ids are 64-bit but only skipped). Returns [value, next position].
 */
function readVarint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error("bad-response: truncated varint");
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Calls `onField(number, wireType, value, start, end)` for each top-level field of `buf`. */
function eachField(buf, onField) {
  let pos = 0;
  while (pos < buf.length) {
    let tag;
    [tag, pos] = readVarint(buf, pos);
    const wireType = tag % 8;
    const field = Math.floor(tag / 8);
    if (wireType === 0) {
      let value;
      [value, pos] = readVarint(buf, pos);
      onField(field, wireType, value, pos, pos);
    } else if (wireType === 2) {
      let length;
      [length, pos] = readVarint(buf, pos);
      if (pos + length > buf.length) throw new Error("bad-response: truncated field");
      onField(field, wireType, length, pos, pos + length);
      pos += length;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
    } else {
      throw new Error(`bad-response: wire type ${wireType}`);
    }
  }
}

/**
 * The revision in PutResponse.header (field 1, a ResponseHeader whose field 3 is revision).
 * Every successful put creates a revision, so a response without one is not an acknowledged put.
 */
export function putResponseRevision(buf) {
  let revision = 0;
  eachField(buf, (field, wireType, _value, start, end) => {
    if (field !== 1 || wireType !== 2) return;
    eachField(buf.subarray(start, end), (inner, innerType, value) => {
      if (inner === 3 && innerType === 0) revision = value;
    });
  });
  return revision;
}

/** Rejects unless `message` is a PutResponse with a revision: every successful put makes one. */
function checkPutResponse(message) {
  if (!(putResponseRevision(message) > 0))
    throw new Error("bad-response: PutResponse without a revision");
}

/** An error put-load files under `name` (it takes the kind from `code`, else the first word). */
function putError(name, detail) {
  return Object.assign(new Error(`${name}: ${detail}`), { code: name });
}

/**
 * Opens one connection to etcd's gRPC endpoint `address` ("host:port") with `transport`
 * ("grpc-js" or "http2") and waits until it is connected, so connecting is not part of the
 * measured load. Every put carries a deadline of `timeoutMs`.
 */
export function openEtcdPutClient(address, { transport = "grpc-js", timeoutMs = 10_000 } = {}) {
  if (transport === "grpc-js") return openGrpcJsClient(address, timeoutMs);
  if (transport === "http2") return openHttp2Client(address, timeoutMs);
  throw new Error(`unknown etcd client transport "${transport}" (grpc-js or http2)`);
}

const identity = (buf) => buf;

/**
 * grpc-js shares subchannels (TCP connections) between clients with the same target and options
 * through a global pool; `grpc.use_local_subchannel_pool` gives this client its own, so C bench
 * clients hold C connections, like C lockstep clients do. Channelz (grpc-js's per-call
 * bookkeeping for the channelz debug service, on by default) is turned off: nothing reads it.
 */
async function openGrpcJsClient(address, timeoutMs) {
  // Loaded only for this transport: the default (http2) needs nothing beyond Node.
  const { Client, credentials } = await import("@grpc/grpc-js");
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.enable_channelz": 0,
  });
  try {
    await new Promise((resolve, reject) =>
      client.waitForReady(Date.now() + timeoutMs, (error) =>
        error ? reject(new Error(`etcd at ${address} unreachable: ${error.message}`)) : resolve(),
      ),
    );
  } catch (error) {
    client.close();
    throw error;
  }
  return {
    put: (key, value) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          putMethod,
          identity,
          identity,
          encodePutRequest(key, value),
          { deadline: Date.now() + timeoutMs },
          (error, response) => {
            if (error) {
              return reject(
                putError(status[error.code] ?? "UNKNOWN", error.details || error.message),
              );
            }
            // Decoding errors must reject this put, not escape into grpc-js's callback.
            try {
              checkPutResponse(response);
              resolve();
            } catch (decodeError) {
              reject(decodeError);
            }
          },
        );
      }),
    close: async () => client.close(),
  };
}

/**
 * gRPC unary calls over one HTTP/2 session: POST /etcdserverpb.KV/Put with a 5-byte frame header
 * (compressed flag, big-endian length) before the message; the reply is one such frame and the
 * status comes in the trailers, or in the headers alone when the call failed at once.
 */
async function openHttp2Client(address, timeoutMs) {
  const session = http2.connect(`http://${address}`);
  let broken = null;
  session.on("error", (error) => {
    broken = error;
  });
  session.on("close", () => {
    broken ??= new Error("connection closed");
  });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connection")), timeoutMs);
      session.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      session.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } catch (error) {
    session.destroy();
    throw new Error(`etcd at ${address} unreachable: ${error.message}`);
  }
  const headers = {
    ":method": "POST",
    ":path": putMethod,
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-timeout": `${timeoutMs}m`,
  };
  const put = (key, value) =>
    new Promise((resolve, reject) => {
      let stream;
      try {
        if (broken !== null) throw broken;
        stream = session.request(headers);
      } catch (error) {
        broken ??= error;
        // Failing at once would let put-load's loop spin on microtasks without ever yielding
        // to the event loop; wait a little, as a client backing off before a reconnect would.
        setTimeout(() => reject(putError("UNAVAILABLE", broken.message)), 100);
        return;
      }
      const frame = encodePutRequest(key, value, 5);
      frame[0] = 0;
      frame.writeUInt32BE(frame.length - 5, 1);
      const chunks = [];
      let grpcStatus;
      let grpcMessage;
      let streamError;
      const readStatus = (h) => {
        if (h["grpc-status"] === undefined) return;
        grpcStatus = Number(h["grpc-status"]);
        grpcMessage = h["grpc-message"];
      };
      stream.on("response", readStatus);
      stream.on("trailers", readStatus);
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("error", (error) => {
        streamError = error;
      });
      stream.setTimeout(timeoutMs, () => {
        streamError = putError("DEADLINE_EXCEEDED", `no reply in ${timeoutMs} ms`);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.on("close", () => {
        if (streamError !== undefined && grpcStatus === undefined)
          return reject(streamError.code ? streamError : putError("UNAVAILABLE", streamError));
        if (grpcStatus === undefined) return reject(putError("INTERNAL", "reply without status"));
        if (grpcStatus !== 0) {
          // grpc-message is percent-encoded; shown raw if it is not valid.
          let message = grpcMessage ?? "";
          try {
            message = decodeURIComponent(message);
          } catch {}
          return reject(putError(status[grpcStatus] ?? "UNKNOWN", message));
        }
        try {
          const reply = Buffer.concat(chunks);
          if (reply.length < 5 || reply[0] !== 0 || reply.readUInt32BE(1) !== reply.length - 5)
            throw new Error("bad-response: not one uncompressed gRPC frame");
          checkPutResponse(reply.subarray(5));
          resolve();
        } catch (error) {
          reject(error);
        }
      });
      stream.end(frame);
    });
  return {
    put,
    // close() never calls back on a session that is already gone.
    close: () =>
      session.closed || session.destroyed
        ? Promise.resolve()
        : new Promise((resolve) => session.close(resolve)),
  };
}
