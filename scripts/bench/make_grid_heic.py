#!/usr/bin/env python3
"""Build an iPhone-style *grid* HEIC from an ordinary PNG/JPEG image.

iPhone cameras do not store a photo as one big HEVC frame.  The primary item
is a `grid` derived image whose tiles are independent 512x512 `hvc1` items
(hidden), referenced in row-major order through a `dimg` item reference.  The
grid's output size is the real photo size; the tiles in the last row/column
extend past it and are cropped by the grid.  An optional `irot` property on
the grid item tells the viewer to rotate the assembled image.

libheif's `heif-enc` (1.15 as shipped by Debian 12) cannot write grids, so
this script:

  1. cuts the input into TxT tiles (default T=512), padding the last row and
     column by repeating the edge pixels;
  2. encodes every tile separately with `heif-enc -q Q`;
  3. pulls each tile's HEVC bitstream (length-prefixed NAL units, kept
     byte-for-byte) and its `hvcC` decoder configuration out of the small
     HEIF files that heif-enc wrote;
  4. writes a new HEIF file:

        ftyp  major 'heic', compatible 'mif1' 'heic' 'miaf'
        meta  hdlr 'pict'
              dinf/dref/url (self-contained)
              pitm  -> grid item (id 1)
              iinf  infe v2: item 1 'grid', items 2.. 'hvc1' (hidden)
              iref  dimg 1 -> 2, 3, ... (row-major)
              iprp  ipco: hvcC (one shared, or one per tile if they differ),
                          ispe TxT, colr nclx, pixi, ispe WxH, [colr prof], [irot]
                    ipma: grid  -> ispe WxH, colr, [prof], pixi, [irot (essential)]
                          tiles -> hvcC (essential), ispe TxT, colr, pixi
              iloc  v1: grid payload (mdat, or idat with --grid-in-idat),
                        tile bitstreams in mdat
              [idat]
        mdat  [ImageGrid payload] tile0 tile1 ...

Orientation (--rotate R, R in 90/180/270):
  HEIF's `irot` angle is counter-clockwise, in units of 90 degrees.  With
  --rotate R the grid gets `irot` angle R/90 and the *stored* pixels are the
  input rotated R degrees clockwise, so a viewer that applies irot displays
  the input upright.  E.g. `--rotate 90` on an 8064x6048 input stores a
  6048x8064 grid (ispe 6048x8064) with irot angle 1, which displays as
  8064x6048.  (Real iPhone portrait shots are the reverse case: a landscape
  sensor image stored with irot angle 3.)

Colour:
  heif-enc converts RGB to YCbCr with BT.601 matrix (6), full range, 4:2:0,
  and x265 writes that into the SPS VUI together with "unspecified" (2)
  primaries/transfer.  (heif-enc 1.15 accepts --matrix_coefficients etc. but
  ignores them.)  The script reads the VUI of the encoded tiles and writes a
  `colr` nclx box whose matrix/full_range are the bitstream's and whose
  primaries/transfer are the VUI's if specified, else BT.709 (1) / sRGB (13):
  normally primaries=1 transfer=13 matrix=6 full_range=1.  --fix-vui
  additionally rewrites the three colour fields in the SPS stored in hvcC so
  the bitstream says the same (slice data is never touched).  The input's
  ICC profile is dropped (the pixels are assumed to be sRGB) unless
  --keep-icc is given; then it is added as a second `colr` of type 'prof' on
  the grid item.

Other notes:
  * JPEG EXIF orientation is baked into the pixels before tiling.
  * Alpha is dropped; 16-bit grey input is reduced to 8 bit (Pillow itself
    reads 16-bit RGB PNGs as 8 bit).
  * Tiles are encoded independently (as on an iPhone), so at low quality
    faint seams can appear at tile borders; at -q 90 none are measurable.

Usage:
  make_grid_heic.py INPUT OUTPUT.heic [--quality Q] [--rotate 90|180|270]
                    [--tile-size T] [--jobs N] [--keep-icc] [--grid-in-idat]
                    [--fix-vui] [--keep-temp]

Requires: python3 with Pillow and numpy; heif-enc (libheif examples, x265).
"""

import argparse
import concurrent.futures
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageOps

# nclx values used for encoding and written into the colr box (ITU-T H.273).
NCLX_PRIMARIES = 1   # BT.709 / sRGB primaries
NCLX_TRANSFER = 13   # sRGB (IEC 61966-2-1)
NCLX_MATRIX = 6      # BT.601 (what heif-enc encodes with)
NCLX_FULL_RANGE = 1


# ---------------------------------------------------------------------------
# ISOBMFF reading
# ---------------------------------------------------------------------------

def iter_boxes(data, start=0, end=None):
    """Yield (type, payload_start, box_end) for the boxes in data[start:end]."""
    end = len(data) if end is None else end
    off = start
    while off + 8 <= end:
        size, btype = struct.unpack_from('>I4s', data, off)
        header = 8
        if size == 1:
            size = struct.unpack_from('>Q', data, off + 8)[0]
            header = 16
        elif size == 0:
            size = end - off
        if size < header or off + size > end:
            raise ValueError('corrupt box %r at offset %d' % (btype, off))
        yield btype, off + header, off + size
        off += size


def find_box(data, btype, start=0, end=None):
    for t, p, e in iter_boxes(data, start, end):
        if t == btype:
            return p, e
    raise ValueError('box %r not found' % btype)


def read_uint(data, off, nbytes):
    """Big-endian unsigned int of 0, 4 or 8 bytes (iloc field widths)."""
    if nbytes == 0:
        return 0, off
    fmt = {1: '>B', 2: '>H', 4: '>I', 8: '>Q'}[nbytes]
    return struct.unpack_from(fmt, data, off)[0], off + nbytes


def parse_iloc(data, p, e):
    """Return {item_id: (construction_method, base_offset, [(offset, length)])}."""
    version = data[p]
    off = p + 4
    b0, b1 = data[off], data[off + 1]
    off += 2
    offset_size, length_size = b0 >> 4, b0 & 15
    base_offset_size = b1 >> 4
    index_size = (b1 & 15) if version in (1, 2) else 0
    if version < 2:
        count, off = read_uint(data, off, 2)
    else:
        count, off = read_uint(data, off, 4)
    items = {}
    for _ in range(count):
        item_id, off = read_uint(data, off, 2 if version < 2 else 4)
        method = 0
        if version in (1, 2):
            method, off = read_uint(data, off, 2)
            method &= 15
        off += 2  # data_reference_index
        base, off = read_uint(data, off, base_offset_size)
        n_ext, off = read_uint(data, off, 2)
        extents = []
        for _ in range(n_ext):
            if index_size:
                off += index_size
            eo, off = read_uint(data, off, offset_size)
            el, off = read_uint(data, off, length_size)
            extents.append((eo, el))
        items[item_id] = (method, base, extents)
    return items


def parse_ipma(data, p, e):
    """Return {item_id: [(essential, property_index_1_based)]}."""
    version = data[p]
    flags = int.from_bytes(data[p + 1:p + 4], 'big')
    off = p + 4
    count, off = read_uint(data, off, 4)
    assoc = {}
    for _ in range(count):
        item_id, off = read_uint(data, off, 2 if version < 1 else 4)
        n, off = read_uint(data, off, 1)
        lst = []
        for _ in range(n):
            if flags & 1:
                v, off = read_uint(data, off, 2)
                lst.append((v >> 15, v & 0x7FFF))
            else:
                v, off = read_uint(data, off, 1)
                lst.append((v >> 7, v & 0x7F))
        assoc[item_id] = lst
    return assoc


def extract_single_image(path):
    """Read a single-image HEIF written by heif-enc.

    Returns (bitstream, {property_type: full_box_bytes}) for the primary item.
    The bitstream is the item's data exactly as stored (length-prefixed NALs).
    """
    with open(path, 'rb') as f:
        data = f.read()
    mp, me = find_box(data, b'meta')
    mp += 4  # meta is a FullBox
    pp, _ = find_box(data, b'pitm', mp, me)
    primary = struct.unpack_from('>H', data, pp + 4)[0]
    lp, le = find_box(data, b'iloc', mp, me)
    method, base, extents = parse_iloc(data, lp, le)[primary]
    if method == 1:
        ip, _ = find_box(data, b'idat', mp, me)
        src_base = ip + base
    elif method == 0:
        src_base = base
    else:
        raise ValueError('unsupported iloc construction_method %d' % method)
    bitstream = b''.join(data[src_base + o:src_base + o + n] for o, n in extents)

    rp, re_ = find_box(data, b'iprp', mp, me)
    cp, ce = find_box(data, b'ipco', rp, re_)
    props = [data[p - 8:e] for _, p, e in iter_boxes(data, cp, ce)]
    ap, ae = find_box(data, b'ipma', rp, re_)
    out = {}
    for _, idx in parse_ipma(data, ap, ae).get(primary, []):
        if idx:
            box = props[idx - 1]
            out[box[4:8].decode('latin1')] = box
    if 'hvcC' not in out:
        raise ValueError('%s: primary item has no hvcC' % path)
    return bitstream, out


# ---------------------------------------------------------------------------
# HEVC SPS parsing (only far enough to read size, chroma, depth and VUI colour)
# ---------------------------------------------------------------------------

class BitReader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def u(self, n):
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self):
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self):
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def unescape_rbsp(nal):
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    out, zeros = bytearray(), 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def hvcc_nal_units(hvcc_box):
    """Return [(nal_type, nal_bytes)] stored in an hvcC box."""
    d = hvcc_box[8:]
    off = 22
    n_arrays = d[off]
    off += 1
    nals = []
    for _ in range(n_arrays):
        nal_type = d[off] & 0x3F
        n = struct.unpack_from('>H', d, off + 1)[0]
        off += 3
        for _ in range(n):
            ln = struct.unpack_from('>H', d, off)[0]
            nals.append((nal_type, d[off + 2:off + 2 + ln]))
            off += 2 + ln
    return nals


def _skip_profile_tier_level(br, max_sub_layers_minus1):
    br.u(8 + 32 + 48)          # general profile fields
    br.u(8)                    # general_level_idc
    sub_profile, sub_level = [], []
    for _ in range(max_sub_layers_minus1):
        sub_profile.append(br.u(1))
        sub_level.append(br.u(1))
    if max_sub_layers_minus1 > 0:
        for _ in range(max_sub_layers_minus1, 8):
            br.u(2)
    for i in range(max_sub_layers_minus1):
        if sub_profile[i]:
            br.u(88)
        if sub_level[i]:
            br.u(8)


def _skip_scaling_list_data(br):
    for size_id in range(4):
        for _ in range(0, 6, 3 if size_id == 3 else 1):
            if not br.u(1):            # scaling_list_pred_mode_flag
                br.ue()
            else:
                coef_num = min(64, 1 << (4 + (size_id << 1)))
                if size_id > 1:
                    br.se()
                for _ in range(coef_num):
                    br.se()


def parse_sps(nal):
    """Parse an HEVC SPS NAL unit; returns a dict with the interesting fields."""
    br = BitReader(unescape_rbsp(nal)[2:])  # skip 2-byte NAL header
    br.u(4)
    max_sub_layers_minus1 = br.u(3)
    br.u(1)
    _skip_profile_tier_level(br, max_sub_layers_minus1)
    br.ue()                                 # sps_seq_parameter_set_id
    sps = {'chroma_format_idc': br.ue()}
    if sps['chroma_format_idc'] == 3:
        br.u(1)
    w, h = br.ue(), br.ue()
    crop = [0, 0, 0, 0]
    if br.u(1):                             # conformance_window_flag
        crop = [br.ue() for _ in range(4)]  # left, right, top, bottom
    sub_w = 2 if sps['chroma_format_idc'] in (1, 2) else 1
    sub_h = 2 if sps['chroma_format_idc'] == 1 else 1
    sps['width'] = w - sub_w * (crop[0] + crop[1])
    sps['height'] = h - sub_h * (crop[2] + crop[3])
    sps['bit_depth_luma'] = br.ue() + 8
    sps['bit_depth_chroma'] = br.ue() + 8
    log2_max_poc_lsb = br.ue() + 4
    ordering_all = br.u(1)
    for _ in range(0 if ordering_all else max_sub_layers_minus1,
                   max_sub_layers_minus1 + 1):
        br.ue(); br.ue(); br.ue()
    for _ in range(6):
        br.ue()                              # block sizes / hierarchy depths
    if br.u(1) and br.u(1):                  # scaling_list_enabled / data_present
        _skip_scaling_list_data(br)
    br.u(1); br.u(1)                         # amp, sao
    if br.u(1):                              # pcm_enabled_flag
        br.u(4); br.u(4); br.ue(); br.ue(); br.u(1)
    num_st_rps = br.ue()
    num_delta_pocs = []
    for idx in range(num_st_rps):
        inter = br.u(1) if idx != 0 else 0
        if inter:
            br.u(1); br.ue()                  # delta_rps_sign, abs_delta_rps_minus1
            ref = num_delta_pocs[idx - 1]
            n = 0
            for _ in range(ref + 1):
                used = br.u(1)
                use_delta = 1 if used else br.u(1)
                n += 1 if (used or use_delta) else 0
            num_delta_pocs.append(n)
        else:
            neg, pos = br.ue(), br.ue()
            for _ in range(neg + pos):
                br.ue(); br.u(1)
            num_delta_pocs.append(neg + pos)
    if br.u(1):                              # long_term_ref_pics_present_flag
        for _ in range(br.ue()):
            br.u(log2_max_poc_lsb); br.u(1)
    br.u(1); br.u(1)                         # temporal mvp, strong intra smoothing
    sps['vui'] = None
    if br.u(1):                              # vui_parameters_present_flag
        vui = {}
        if br.u(1):                          # aspect_ratio_info_present_flag
            if br.u(8) == 255:
                br.u(16); br.u(16)
        if br.u(1):                          # overscan_info_present_flag
            br.u(1)
        if br.u(1):                          # video_signal_type_present_flag
            br.u(3)
            vui['full_range'] = br.u(1)
            if br.u(1):                      # colour_description_present_flag
                vui['colour_bitpos'] = br.pos + 16  # incl. NAL header
                vui['primaries'] = br.u(8)
                vui['transfer'] = br.u(8)
                vui['matrix'] = br.u(8)
        sps['vui'] = vui
    return sps


def escape_rbsp(rbsp):
    """Insert emulation-prevention bytes (inverse of unescape_rbsp)."""
    out, zeros = bytearray(), 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def hvcc_with_vui_colour(hvcc_box, primaries, transfer, matrix):
    """Return a copy of hvcC whose SPS VUI carries the given colour description.

    Only rewrites the three fixed-length u(8) fields in place (no bit shifts),
    so it requires colour_description_present_flag=1 in the original SPS.
    The slice data is untouched.
    """
    d = hvcc_box[8:]
    head, off = bytearray(d[:22]), 22
    n_arrays = d[off]
    off += 1
    arrays = b''
    for _ in range(n_arrays):
        type_byte, n = d[off], struct.unpack_from('>H', d, off + 1)[0]
        off += 3
        nals = b''
        for _ in range(n):
            ln = struct.unpack_from('>H', d, off)[0]
            nal = d[off + 2:off + 2 + ln]
            off += 2 + ln
            if type_byte & 0x3F == 33:
                vui = parse_sps(nal)['vui'] or {}
                if 'colour_bitpos' not in vui:
                    raise ValueError('SPS has no colour description to patch')
                rbsp = bytearray(unescape_rbsp(nal))
                pos = vui['colour_bitpos']
                for value in (primaries, transfer, matrix):
                    for i in range(8):
                        byte, bit = divmod(pos, 8)
                        mask = 0x80 >> bit
                        if (value >> (7 - i)) & 1:
                            rbsp[byte] |= mask
                        else:
                            rbsp[byte] &= ~mask & 0xFF
                        pos += 1
                nal = escape_rbsp(bytes(rbsp))
            nals += struct.pack('>H', len(nal)) + nal
        arrays += struct.pack('>BH', type_byte, n) + nals
    return box(b'hvcC', bytes(head) + bytes([n_arrays]) + arrays)


def sps_from_hvcc(hvcc_box):
    for nal_type, nal in hvcc_nal_units(hvcc_box):
        if nal_type == 33:
            return parse_sps(nal)
    raise ValueError('hvcC contains no SPS')


# ---------------------------------------------------------------------------
# ISOBMFF writing
# ---------------------------------------------------------------------------

def box(btype, payload):
    if len(payload) + 8 >= 1 << 32:
        return struct.pack('>I4sQ', 1, btype, len(payload) + 16) + payload
    return struct.pack('>I4s', len(payload) + 8, btype) + payload


def full_box(btype, version, flags, payload):
    return box(btype, struct.pack('>I', (version << 24) | flags) + payload)


def ispe_box(w, h):
    return full_box(b'ispe', 0, 0, struct.pack('>II', w, h))


def nclx_box(primaries, transfer, matrix, full_range):
    return box(b'colr', b'nclx' + struct.pack('>HHHB', primaries, transfer,
                                               matrix, (full_range & 1) << 7))


def image_grid_payload(rows, cols, width, height):
    """ImageGrid (HEIF 6.6.2.3.2): 16-bit sizes unless they do not fit."""
    large = width > 0xFFFF or height > 0xFFFF
    fmt = '>BBBBII' if large else '>BBBBHH'
    return struct.pack(fmt, 0, 1 if large else 0, rows - 1, cols - 1, width, height)


def build_file(tiles, hvcc_boxes, tile_size, grid_w, grid_h, rows, cols,
               nclx, pixi, rotate, icc, grid_in_idat):
    """Assemble the output file.  tiles: list of bitstreams, row-major."""
    GRID_ID = 1
    tile_ids = list(range(2, 2 + len(tiles)))
    grid_payload = image_grid_payload(rows, cols, grid_w, grid_h)

    # --- item properties (ipco); indices are 1-based -----------------------
    props = []

    def add(p):
        props.append(p)
        return len(props)

    shared_hvcc = all(h == hvcc_boxes[0] for h in hvcc_boxes)
    if shared_hvcc:
        hvcc_idx = [add(hvcc_boxes[0])] * len(tiles)
    else:
        hvcc_idx = [add(h) for h in hvcc_boxes]
    tile_ispe = add(ispe_box(tile_size, tile_size))
    colr_idx = add(nclx)
    pixi_idx = add(pixi)
    grid_ispe = add(ispe_box(grid_w, grid_h))
    prof_idx = add(box(b'colr', b'prof' + icc)) if icc else None
    irot_idx = add(box(b'irot', bytes([(rotate // 90) & 3]))) if rotate else None

    # Descriptive properties first, transformative (irot) last and essential
    # (MIAF 7.3.9).  hvcC is essential for the coded tiles.
    assoc = {GRID_ID: [(0, grid_ispe), (0, colr_idx)]
             + ([(0, prof_idx)] if prof_idx else [])
             + [(0, pixi_idx)]
             + ([(1, irot_idx)] if irot_idx else [])}
    for i, tid in enumerate(tile_ids):
        assoc[tid] = [(1, hvcc_idx[i]), (0, tile_ispe), (0, colr_idx), (0, pixi_idx)]

    wide = len(props) > 127
    ipma = struct.pack('>I', len(assoc))
    for item_id, lst in assoc.items():
        ipma += struct.pack('>HB', item_id, len(lst))
        for ess, idx in lst:
            ipma += (struct.pack('>H', (ess << 15) | idx) if wide
                     else struct.pack('>B', (ess << 7) | idx))
    iprp = box(b'iprp', box(b'ipco', b''.join(props))
               + full_box(b'ipma', 0, 1 if wide else 0, ipma))

    # --- item info and references ------------------------------------------
    def infe(item_id, item_type, hidden):
        return full_box(b'infe', 2, 1 if hidden else 0,
                        struct.pack('>HH4s', item_id, 0, item_type) + b'\0')
    entries = [infe(GRID_ID, b'grid', False)] + [infe(t, b'hvc1', True) for t in tile_ids]
    if len(entries) < 0x10000:
        iinf = full_box(b'iinf', 0, 0, struct.pack('>H', len(entries)) + b''.join(entries))
    else:
        iinf = full_box(b'iinf', 1, 0, struct.pack('>I', len(entries)) + b''.join(entries))
    iref = full_box(b'iref', 0, 0, box(b'dimg', struct.pack(
        '>HH%dH' % len(tile_ids), GRID_ID, len(tile_ids), *tile_ids)))

    hdlr = full_box(b'hdlr', 0, 0, struct.pack('>I4s12s', 0, b'pict', b'') + b'\0')
    dinf = box(b'dinf', full_box(b'dref', 0, 0, struct.pack('>I', 1)
                                 + full_box(b'url ', 0, 1, b'')))
    pitm = full_box(b'pitm', 0, 0, struct.pack('>H', GRID_ID))
    idat = box(b'idat', grid_payload) if grid_in_idat else b''

    # --- mdat layout -----------------------------------------------------------
    mdat_parts = ([] if grid_in_idat else [grid_payload]) + tiles
    mdat_len = sum(len(p) for p in mdat_parts)
    mdat_header = 16 if mdat_len + 8 >= 1 << 32 else 8
    ftyp = box(b'ftyp', b'heic' + struct.pack('>I', 0) + b'mif1heicmiaf')

    def iloc_box(mdat_payload_start):
        off_size = 8 if mdat_payload_start + mdat_len >= 1 << 32 else 4
        fmt = '>Q' if off_size == 8 else '>I'
        body = struct.pack('>BBH', (off_size << 4) | 4, 0, 1 + len(tiles))
        pos = mdat_payload_start

        def entry(item_id, method, offset, length):
            return (struct.pack('>HHHH', item_id, method, 0, 1)
                    + struct.pack(fmt, offset) + struct.pack('>I', length))
        if grid_in_idat:
            body += entry(GRID_ID, 1, 0, len(grid_payload))
        else:
            body += entry(GRID_ID, 0, pos, len(grid_payload))
            pos += len(grid_payload)
        for tid, data in zip(tile_ids, tiles):
            body += entry(tid, 0, pos, len(data))
            pos += len(data)
        return full_box(b'iloc', 1, 0, body)

    def meta_box(iloc):
        return full_box(b'meta', 0, 0, hdlr + dinf + pitm + iloc + iinf + iref + iprp + idat)

    # iloc field widths do not depend on the offsets' values, so one dry run
    # tells us where mdat's payload starts.  (Re-check in case the offset
    # width flipped to 8 bytes.)
    start = 0
    for _ in range(3):
        meta = meta_box(iloc_box(start))
        new_start = len(ftyp) + len(meta) + mdat_header
        if new_start == start:
            break
        start = new_start
    meta = meta_box(iloc_box(start))
    assert len(ftyp) + len(meta) + mdat_header == start
    if mdat_header == 16:
        mdat_hdr = struct.pack('>I4sQ', 1, b'mdat', mdat_len + 16)
    else:
        mdat_hdr = struct.pack('>I4s', mdat_len + 8, b'mdat')
    return [ftyp, meta, mdat_hdr] + mdat_parts


# ---------------------------------------------------------------------------
# Tiling and encoding
# ---------------------------------------------------------------------------

def encode_tile(args):
    png_path, heic_path, quality, heif_enc = args
    # Note: heif-enc 1.15 accepts --matrix_coefficients/--full_range_flag/...
    # but ignores them; x265 always gets matrix 6, full range, and
    # "unspecified" (2) primaries/transfer in the VUI.  So we do not pass them
    # and instead read what was actually encoded from the SPS.
    cmd = [heif_enc, '-q', str(quality), png_path, '-o', heic_path]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0 or not os.path.exists(heic_path):
        raise RuntimeError('heif-enc failed for %s:\n%s' % (png_path, res.stderr.decode(errors='replace')))
    return extract_single_image(heic_path)


def load_input(path):
    im = Image.open(path)
    icc = im.info.get('icc_profile')
    im = ImageOps.exif_transpose(im)  # bake any EXIF orientation into pixels
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        # 16-bit grey: keep the top 8 bits (convert('RGB') would clip).
        im = Image.fromarray((np.asarray(im).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    if im.mode != 'RGB':
        if 'A' in im.getbands():
            print('warning: alpha channel dropped', file=sys.stderr)
        im = im.convert('RGB')
    return np.asarray(im), icc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('input', help='PNG or JPEG image')
    ap.add_argument('output', help='output .heic')
    ap.add_argument('-q', '--quality', type=int, default=90, help='heif-enc quality 0-100 (default 90)')
    ap.add_argument('--rotate', type=int, choices=(0, 90, 180, 270), default=0,
                    help='add irot (counter-clockwise R degrees) to the grid; stored pixels are the '
                         'input rotated R clockwise, so viewers show the input upright')
    ap.add_argument('--tile-size', type=int, default=512, help='tile edge in pixels (default 512)')
    ap.add_argument('-j', '--jobs', type=int, default=1, help='parallel heif-enc processes (default 1)')
    ap.add_argument('--keep-icc', action='store_true',
                    help="also store the input's ICC profile as colr 'prof' on the grid item")
    ap.add_argument('--grid-in-idat', action='store_true',
                    help='store the ImageGrid payload in idat (as iPhones do) instead of mdat')
    ap.add_argument('--fix-vui', action='store_true',
                    help='rewrite the colour description in the tiles\' SPS (hvcC only) so it matches '
                         'the colr nclx box (heif-enc writes "unspecified" primaries/transfer)')
    ap.add_argument('--keep-temp', action='store_true', help='keep the per-tile PNG/HEIC files')
    ap.add_argument('--heif-enc', default=shutil.which('heif-enc') or 'heif-enc')
    a = ap.parse_args()

    T = a.tile_size
    if T < 16 or T % 8:
        ap.error('tile size must be a multiple of 8')
    pixels, icc = load_input(a.input)
    in_h, in_w = pixels.shape[:2]
    # Store the input rotated clockwise by R so that irot (ccw R) undoes it.
    stored = np.ascontiguousarray(np.rot90(pixels, k=-(a.rotate // 90))) if a.rotate else pixels
    grid_h, grid_w = stored.shape[:2]
    rows, cols = math.ceil(grid_h / T), math.ceil(grid_w / T)
    if rows > 256 or cols > 256:
        sys.exit('image too large: %dx%d tiles (max 256x256)' % (cols, rows))
    padded = np.pad(stored, ((0, rows * T - grid_h), (0, cols * T - grid_w), (0, 0)), mode='edge')

    tmp = tempfile.mkdtemp(prefix='heicgrid-')
    try:
        jobs = []
        for r in range(rows):
            for c in range(cols):
                png = os.path.join(tmp, 'tile_%03d_%03d.png' % (r, c))
                # No ICC in the tile PNGs: avoids heif-enc copying it into every
                # tile (and libpng's iCCP warnings).
                Image.fromarray(padded[r * T:(r + 1) * T, c * T:(c + 1) * T]).save(png, compress_level=1)
                jobs.append((png, png[:-4] + '.heic', a.quality, a.heif_enc))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            results = list(ex.map(encode_tile, jobs))
    finally:
        if a.keep_temp:
            print('tiles kept in', tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    tiles = [bs for bs, _ in results]
    hvccs = [props['hvcC'] for _, props in results]

    # Sanity-check the tiles and derive the nclx box from the bitstream's VUI:
    # matrix and range must match what the encoder did (it is what a decoder
    # needs to get RGB back); primaries/transfer come from the VUI when it
    # specifies them, otherwise from our sRGB defaults.
    distinct = sorted(set(hvccs))
    sps_list = [sps_from_hvcc(h) for h in distinct]
    for sps in sps_list:
        if (sps['width'], sps['height']) != (T, T):
            sys.exit('unexpected tile size in SPS: %dx%d' % (sps['width'], sps['height']))

    def colour(sps):
        v = sps['vui'] or {}
        return (v.get('primaries'), v.get('transfer'), v.get('matrix'), v.get('full_range'))
    if len({colour(s) for s in sps_list}) > 1:
        print('warning: tiles disagree on VUI colour description', file=sys.stderr)
    sps = sps_list[0]
    vp, vt, vm, vr = colour(sps)
    if vm is None or vr is None:
        print('warning: tile SPS has no matrix/range; assuming matrix %d full_range %d'
              % (NCLX_MATRIX, NCLX_FULL_RANGE), file=sys.stderr)
    unspec = (None, 2)
    nclx_vals = (NCLX_PRIMARIES if vp in unspec else vp,
                 NCLX_TRANSFER if vt in unspec else vt,
                 NCLX_MATRIX if vm in unspec else vm,
                 NCLX_FULL_RANGE if vr is None else vr)
    if a.fix_vui:
        # Make the SPS say the same as the colr box (slice data untouched).
        fixed = {h: hvcc_with_vui_colour(h, *nclx_vals[:3]) for h in distinct}
        hvccs = [fixed[h] for h in hvccs]
    nclx = nclx_box(*nclx_vals)
    pixi = results[0][1].get('pixi') or full_box(
        b'pixi', 0, 0, bytes([3, sps['bit_depth_luma'], sps['bit_depth_chroma'], sps['bit_depth_chroma']]))

    parts = build_file(tiles, hvccs, T, grid_w, grid_h, rows, cols, nclx, pixi,
                       a.rotate, icc if a.keep_icc else None, a.grid_in_idat)
    with open(a.output, 'wb') as f:
        for p in parts:
            f.write(p)

    print('%s: %dx%d input -> grid %dx%d (%dx%d tiles of %d), irot %s, hvcC %s, '
          'nclx primaries=%d transfer=%d matrix=%d full_range=%d, chroma_format_idc=%d, %d bytes'
          % (a.output, in_w, in_h, grid_w, grid_h, cols, rows, T,
             a.rotate // 90 if a.rotate else 'none',
             'shared' if len(distinct) == 1 else '%d distinct (one per tile)' % len(distinct),
             *nclx_vals, sps['chroma_format_idc'], os.path.getsize(a.output)))


if __name__ == '__main__':
    main()
