/**
 * The MessagePack implementation (msgpackr) behind core's codec. Importing this module installs
 * it; code outside src/core imports the codec from here so that it is always installed.
 */
import { Packr } from "msgpackr";
import { installMessagePacker, type MessagePacker } from "../core/codec.js";

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: "number",
  copyBuffers: true,
  moreTypes: false,
  structuredClone: false,
});

export const msgpackrPacker: MessagePacker = {
  pack: (message) => packr.pack(message),
  unpack: (bytes) => packr.unpack(bytes),
};

installMessagePacker(msgpackrPacker);

export { DecodeError, decode, encode, encodeCanonical } from "../core/codec.js";
