//! MNIST: the real files in ../shared/datasets/mnist (their README's figures), and small crafted files for the
//! typed errors.

use rkeras_datasets::DatasetError;
use rkeras_datasets::mnist::{
    load_mnist, load_split, load_split_head, write_idx_images, write_idx_labels,
};
use std::io::Write;
use std::path::PathBuf;

/// The shared MNIST directory; `None` with a loud notice when it is missing, a failure when `CI=true`.
fn real_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/datasets/mnist"
    ));
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "MNIST files missing in {} (CI=true: the real-data tests must run)",
        dir.display()
    );
    eprintln!(
        "\n*** NOT TESTED: MNIST files missing in {} — the real-data test did not run ***\n",
        dir.display()
    );
    None
}

#[test]
fn real_files_match_their_readme() {
    let Some(dir) = real_dir() else { return };
    let mnist = load_mnist(&dir).unwrap();
    assert_eq!(mnist.train.images.shape(), &[60_000, 28, 28]);
    assert_eq!(mnist.test.images.shape(), &[10_000, 28, 28]);
    assert_eq!(
        mnist
            .train
            .labels
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>(),
        vec![5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    );
    assert_eq!(
        mnist
            .test
            .labels
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>(),
        vec![7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );
    let counts = |labels: &ndarray::Array1<u8>| {
        let mut c = [0usize; 10];
        labels.iter().for_each(|&l| c[usize::from(l)] += 1);
        c
    };
    assert_eq!(
        counts(&mnist.train.labels),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        counts(&mnist.test.labels),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    let mean = |images: &ndarray::Array3<u8>| {
        images.iter().map(|&p| f64::from(p)).sum::<f64>() / images.len() as f64
    };
    assert!((mean(&mnist.train.images) - 33.318).abs() < 1e-3);
    assert!((mean(&mnist.test.images) - 33.791).abs() < 1e-3);
    assert_eq!(mnist.train.images.iter().max(), Some(&255));
}

fn crafted(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rkeras_mnist_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn gzipped_and_plain_files_read_the_same() {
    let dir = crafted("gz");
    let images = ndarray::Array3::from_shape_fn((3, 4, 5), |(i, r, c)| (i * 20 + r * 5 + c) as u8);
    write_idx_images(&dir.join("plain"), &images).unwrap();
    let bytes = std::fs::read(dir.join("plain")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("train-images-idx3-ubyte.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&bytes).unwrap();
    gz.finish().unwrap();
    write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[1, 2, 3]).unwrap();
    let split = load_split(&dir, "train").unwrap();
    assert_eq!(split.images, images);
    assert_eq!(split.labels.to_vec(), vec![1, 2, 3]);
    assert_eq!(split.images_f32(false).shape(), &[3, 4, 5, 1]);
    assert_eq!(split.images_f32(true)[[2, 19]], 59.0 / 255.0);
    assert_eq!(
        split.labels_one_hot(4).row(1).to_vec(),
        vec![0.0, 0.0, 1.0, 0.0]
    );
}

#[test]
fn count_mismatch_magic_and_truncation_are_typed_errors() {
    let dir = crafted("errors");
    let images = ndarray::Array3::<u8>::zeros((3, 2, 2));
    write_idx_images(&dir.join("train-images-idx3-ubyte"), &images).unwrap();
    write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[1, 2]).unwrap();
    match load_split(&dir, "train") {
        Err(DatasetError::MnistCountMismatch { images, labels, .. }) => {
            assert_eq!((images, labels), (3, 2))
        }
        other => panic!("expected MnistCountMismatch, received {other:?}"),
    }
    // Labels written where images belong: magic 2049 instead of 2051.
    write_idx_labels(&dir.join("t10k-images-idx3-ubyte"), &[1]).unwrap();
    write_idx_labels(&dir.join("t10k-labels-idx1-ubyte"), &[1]).unwrap();
    let err = load_split(&dir, "t10k").unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::IdxMagic {
                expected: 2051,
                found: 2049,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("t10k-images-idx3-ubyte"), "{err}");
    // A file cut short.
    let path = dir.join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[1, 2, 3]).unwrap();
    match load_split(&dir, "train") {
        Err(DatasetError::IdxTruncated {
            expected, found, ..
        }) => {
            assert_eq!((expected, found), (28, 27))
        }
        other => panic!("expected IdxTruncated, received {other:?}"),
    }
    assert!(matches!(
        load_mnist(&crafted("empty")),
        Err(DatasetError::MissingMnistFile { .. })
    ));
}

#[test]
fn head_of_the_real_files_is_the_head_of_the_whole_files() {
    let Some(dir) = real_dir() else { return };
    let mnist = load_mnist(&dir).unwrap();
    for n in [0, 1, 1280, 10_000] {
        assert_eq!(
            load_split_head(&dir, "train", n).unwrap(),
            mnist.train.head(n)
        );
        assert_eq!(
            load_split_head(&dir, "t10k", n).unwrap(),
            mnist.test.head(n)
        );
    }
    assert_eq!(load_split_head(&dir, "t10k", 60_000).unwrap(), mnist.test);
}

#[test]
fn head_reads_gzipped_and_plain_files_and_stops_at_a_short_file() {
    let dir = crafted("head");
    let images = ndarray::Array3::from_shape_fn((5, 3, 2), |(i, r, c)| (i * 6 + r * 2 + c) as u8);
    write_idx_images(&dir.join("t10k-images-idx3-ubyte"), &images).unwrap();
    write_idx_labels(&dir.join("t10k-labels-idx1-ubyte"), &[9, 8, 7, 6, 5]).unwrap();
    let bytes = std::fs::read(dir.join("t10k-images-idx3-ubyte")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.join("train-images-idx3-ubyte.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&bytes).unwrap();
    gz.finish().unwrap();
    write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[9, 8, 7, 6, 5]).unwrap();
    for prefix in ["train", "t10k"] {
        let whole = load_split(&dir, prefix).unwrap();
        for n in 0..7 {
            assert_eq!(
                load_split_head(&dir, prefix, n).unwrap(),
                whole.head(n),
                "{prefix} {n}"
            );
        }
    }
    // Cut after the third image: two images read, four asked for is a truncation at byte 16 + 3·6.
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), &bytes[..16 + 18]).unwrap();
    assert_eq!(
        load_split_head(&dir, "t10k", 2).unwrap().labels.to_vec(),
        vec![9, 8]
    );
    match load_split_head(&dir, "t10k", 4) {
        Err(DatasetError::IdxTruncated {
            expected, found, ..
        }) => assert_eq!((expected, found), (16 + 24, 16 + 18)),
        other => panic!("expected IdxTruncated, received {other:?}"),
    }
    // A header cut short, a wrong magic number, counts that disagree.
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), &bytes[..7]).unwrap();
    assert!(matches!(
        load_split_head(&dir, "t10k", 1),
        Err(DatasetError::IdxTruncated {
            expected: 16,
            found: 7,
            ..
        })
    ));
    write_idx_labels(&dir.join("t10k-images-idx3-ubyte"), &[1]).unwrap();
    assert!(matches!(
        load_split_head(&dir, "t10k", 1),
        Err(DatasetError::IdxMagic {
            expected: 2051,
            found: 2049,
            ..
        })
    ));
    write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[1, 2]).unwrap();
    assert!(matches!(
        load_split_head(&dir, "train", 1),
        Err(DatasetError::MnistCountMismatch {
            images: 5,
            labels: 2,
            ..
        })
    ));
}
