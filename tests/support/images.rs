//! Hand-made image files: PNG chunks with their CRC, and headers that lie.
//!
//! A decoder's defences are tested with files no encoder would write: a
//! header claiming 100000 x 100000 pixels, or zero. PNG protects every chunk
//! with a CRC-32, so a crafted chunk needs a correct one, or the decoder
//! stops at the checksum and the defence under test is never reached.

/// CRC-32 (IEEE, reflected, polynomial 0xEDB88320), as PNG chunks use it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One PNG chunk: length, type, data, CRC of type and data.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).unwrap();
    let checked = [&kind[..], data].concat();
    [
        &length.to_be_bytes()[..],
        &checked,
        &crc32(&checked).to_be_bytes(),
    ]
    .concat()
}

/// A PNG whose header claims `width` x `height` RGB pixels, with almost no
/// pixel data behind it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let header = [
        &width.to_be_bytes()[..],
        &height.to_be_bytes(),
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    // An empty zlib stream: the claim is all there is.
    let data = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &header),
        &png_chunk(b"IDAT", &data),
        &png_chunk(b"IEND", &[]),
    ]
    .concat()
}

/// `jpeg` with the size in its baseline frame header (SOF0) replaced by
/// `width` x `height`. JPEG headers carry no checksum: patching is enough.
pub fn jpeg_claiming(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    // FF C0, length (2 bytes), precision (1 byte), height, width.
    let sof = jpeg
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .expect("a baseline JPEG has an SOF0 marker");
    let mut patched = jpeg.to_vec();
    patched[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    patched[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    patched
}
