//! Backup zips as Scrypted writes and reads them (server/src/services/backup.ts): `createBackup`
//! zips the database directory with adm-zip, its files at the top level (a real 0.144.2
//! server's: `000003.log`, `CURRENT`, `LOCK`, `LOG`, `MANIFEST-000002`), and `restore` opens the
//! zip and tests every entry's CRC before it changes anything. Read here with the `zip` crate.

use std::io::{Cursor, Read, Write};

/// adm-zip's error for bytes that are no zip (its constructor).
pub const NOT_A_ZIP: &str = "Invalid or unsupported zip format. No END header found";
/// backup.ts restore's error when `zip.test()` fails.
pub const TEST_FAILED: &str = "backup zip test failed.";

/// A zip of `files`, stored (not deflated), so a test can size it exactly.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(*name, stored).expect("a zip entry");
        zip.write_all(bytes).expect("a zip entry's bytes");
    }
    zip.finish().expect("a finished zip").into_inner()
}

/// A backup as `createBackup` lays it out, `log` standing for the database's contents.
pub fn backup_of(log: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("000003.log", log),
        ("CURRENT", b"MANIFEST-000002\n"),
        ("LOCK", b""),
        ("LOG", b"2026/12/07-00:00:00.000000 7f00 Delete type=3 #1\n"),
        (
            "MANIFEST-000002",
            b"\x56\x0b\x2b\xa0\x1c\x00\x01\x01\x1aleveldb.BytewiseComparator",
        ),
    ])
}

/// A backup of exactly `len` bytes (its log filled with a pattern).
pub fn backup_of_len(len: usize) -> Vec<u8> {
    let overhead = backup_of(b"").len();
    assert!(len >= overhead, "a backup is at least {overhead} bytes");
    let log: Vec<u8> = (0..len - overhead).map(|i| (i * 7 % 251) as u8).collect();
    let zip = backup_of(&log);
    assert_eq!(zip.len(), len);
    zip
}

/// The entry names of `bytes` as adm-zip reads them, every entry read through to check its
/// CRC (`zip.test()`); the error restore would throw otherwise.
pub fn entries(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| NOT_A_ZIP.to_string())?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|_| TEST_FAILED.to_string())?;
        std::io::copy(&mut file.by_ref(), &mut std::io::sink())
            .map_err(|_| TEST_FAILED.to_string())?;
        names.push(
            file.name()
                .map_err(|_| TEST_FAILED.to_string())?
                .into_owned(),
        );
    }
    Ok(names)
}
