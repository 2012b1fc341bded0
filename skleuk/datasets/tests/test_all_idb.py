"""Tests for load_all_idb on tiny copies of the ALL-IDB layouts."""

import os
import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image

from skleuk.datasets import ImageReadError, load_all_idb
from skleuk.model_selection import find_duplicate_groups

# Numbers/labels of a small ALL_IDB2 stand-in (not the 260 of the real set).
IDB2 = [(1, 1), (2, 1), (10, 1), (131, 0), (200, 0)]


def _image(seed, shape=(12, 12)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (*shape, 3), dtype=np.uint8)


def _write(path, img):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ext = os.path.splitext(path)[1].lower()
    if ext in (".tif", ".tiff"):
        tifffile.imwrite(path, img, photometric="rgb")
    else:
        Image.fromarray(img).save(path, format="JPEG" if "jp" in ext else None)


def make_idb2(folder, entries=IDB2, ext=".tif", shapes=None):
    paths = []
    for k, (num, lab) in enumerate(entries):
        shape = shapes[k] if shapes else (12, 12)
        p = os.path.join(folder, f"Im{num:03d}_{lab}{ext}")
        _write(p, _image(num, shape))
        paths.append(p)
    return paths


def make_idb1(root, entries, im="im", xyc="xyc", sizes=None):
    """entries: (number, label, centroids as list of (x, y) or None=no file)."""
    for k, (num, lab, cents) in enumerate(entries):
        shape = sizes[k] if sizes else (30, 40)
        _write(os.path.join(root, im, f"Im{num:03d}_{lab}.jpg"), _image(num, shape))
        if cents is not None:
            os.makedirs(os.path.join(root, xyc), exist_ok=True)
            with open(os.path.join(root, xyc, f"Im{num:03d}_{lab}.xyc"), "w") as f:
                f.write("".join(f"{x}\t{y}\n" for x, y in cents))


def load(*args, **kwargs):
    """load_all_idb without the 'partial copy' warning of small stand-ins."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*partial or modified")
        return load_all_idb(*args, **kwargs)


def _check_idb2(data, entries=IDB2):
    nums = [int(os.path.basename(f)[2:5]) for f in data.filenames]
    assert nums == sorted(n for n, _ in entries)
    np.testing.assert_array_equal(data.target, [lab for _, lab in sorted(entries)])
    assert data.target_names == ["healthy", "ALL"]
    assert data.target.dtype == np.int64


@pytest.mark.parametrize(
    "layout",
    [
        "ALL_IDB2/img",  # official
        "ALL_IDB2/ALL_IDB2/img",  # Kaggle re-package, nested
        "ALL_IDB2",  # dropped img level
        "data/ALL_IDB2/ALL_IDB2",  # nested and dropped, deeper
    ],
)
def test_idb2_layouts_from_any_folder_above(tmp_path, layout):
    make_idb2(tmp_path / layout)
    parts = layout.split("/")
    for depth in range(len(parts) + 1):
        folder = tmp_path.joinpath(*parts[:depth])
        data = load(folder, subset="ALL_IDB2")
        _check_idb2(data)
        assert data.images.shape == (5, 12, 12, 3)
        assert data.images.dtype == np.uint8
        np.testing.assert_array_equal(data.images[0], _image(1))


def test_idb2_pixels_and_class_counts(tmp_path, capsys):
    make_idb2(tmp_path / "ALL_IDB2" / "img")
    data = load(tmp_path, verbose=True)
    assert data.class_counts == {"healthy": 2, "ALL": 3}
    assert data.subset == "ALL_IDB2"
    assert "3 ALL (Y=1) and 2 healthy (Y=0)" in data.DESCR
    assert "3 ALL (Y=1) and 2 healthy (Y=0)" in capsys.readouterr().out
    for f, img in zip(data.filenames, data.images, strict=True):
        num = int(os.path.basename(f)[2:5])
        np.testing.assert_array_equal(img, _image(num))
        assert os.path.isabs(f)


def test_parent_of_both_subsets_selects_by_folder(tmp_path):
    make_idb2(tmp_path / "ALL_IDB2" / "img")
    make_idb1(tmp_path / "ALL_IDB1", [(1, 1, [(5, 6)]), (2, 0, []), (3, 0, [])])
    d2 = load(tmp_path, subset="ALL_IDB2", return_images=False)
    _check_idb2(d2)
    assert all("ALL_IDB2" in f for f in d2.filenames)
    d1 = load(tmp_path, subset="ALL_IDB1", return_images=False)
    assert len(d1.filenames) == 3 and all("ALL_IDB1" in f for f in d1.filenames)
    # A folder with only the other subset: a clear error with a hint.
    with pytest.raises(FileNotFoundError, match="subset='ALL_IDB2'"):
        load(tmp_path / "ALL_IDB2", subset="ALL_IDB1", return_images=False)


def test_macos_forks_and_hidden_files_are_skipped(tmp_path):
    make_idb2(tmp_path / "ALL_IDB2" / "img")
    fork = tmp_path / "__MACOSX" / "ALL_IDB2" / "img"
    fork.mkdir(parents=True)
    (fork / "._Im001_1.tif").write_bytes(b"\0\5\22")
    (tmp_path / "ALL_IDB2" / "img" / "._Im002_1.tif").write_bytes(b"\0")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*ImXXX_Y naming")
        data = load(tmp_path)
    _check_idb2(data)


def test_sorted_by_number_not_by_name(tmp_path):
    entries = [(100, 0), (2, 1), (10, 1), (1, 1)]
    make_idb2(tmp_path / "img", entries)
    data = load(tmp_path, return_images=False)
    assert [os.path.basename(f) for f in data.filenames] == [
        "Im001_1.tif",
        "Im002_1.tif",
        "Im010_1.tif",
        "Im100_0.tif",
    ]


def test_uppercase_extensions_and_names(tmp_path):
    folder = tmp_path / "ALL_IDB2" / "img"
    _write(str(folder / "IM001_1.TIF"), _image(1))
    _write(str(folder / "im002_0.TIFF"), _image(2))
    _write(str(folder / "Im003_0.JPG"), _image(3))
    _write(str(folder / "Im004_1.Jpeg"), _image(4))
    data = load(tmp_path)
    np.testing.assert_array_equal(data.target, [1, 0, 0, 1])
    np.testing.assert_array_equal(data.images[0], _image(1))


def test_readme_quirk_jpg_instead_of_tif(tmp_path):
    # The data set's readme says .jpg; copies converted to JPEG must load.
    make_idb2(tmp_path / "ALL_IDB2" / "img", ext=".jpg")
    data = load(tmp_path)
    _check_idb2(data)
    assert data.images.shape == (5, 12, 12, 3)


def test_mixed_sizes_give_a_list_or_the_size_rule(tmp_path):
    shapes = [(12, 12), (12, 12), (9, 12), (12, 12), (12, 7)]
    make_idb2(tmp_path / "ALL_IDB2" / "img", shapes=shapes)
    data = load(tmp_path)
    assert isinstance(data.images, list)
    assert [im.shape[:2] for im in data.images] == shapes
    assert "12x12 (3)" in data.DESCR
    data = load(tmp_path, size=16)
    assert data.images.shape == (5, 16, 16, 3) and data.images.dtype == np.uint8
    X, y = load(tmp_path, size=8, return_X_y=True)
    assert X.shape == (5, 8, 8, 3)
    np.testing.assert_array_equal(y, [1, 1, 1, 0, 0])
    f, y = load(tmp_path, return_images=False, return_X_y=True)
    assert f.shape == (5,) and f.dtype.kind == "U"


def test_partial_copy_warns_and_full_copy_does_not(tmp_path):
    make_idb2(tmp_path / "part" / "ALL_IDB2")
    with pytest.warns(
        UserWarning, match=r"Found 5 ALL_IDB2 images \(3 ALL, 2 healthy\)"
    ):
        load_all_idb(tmp_path / "part", return_images=False)
    full = [(i, 1) for i in range(1, 131)] + [(i, 0) for i in range(131, 261)]
    folder = tmp_path / "full" / "ALL_IDB2" / "img"
    folder.mkdir(parents=True)
    tiny = np.zeros((2, 2, 3), np.uint8)
    for num, lab in full:
        tifffile.imwrite(folder / f"Im{num:03d}_{lab}.tif", tiny, photometric="rgb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_all_idb(tmp_path / "full", return_images=False)
    assert data.class_counts == {"healthy": 130, "ALL": 130}


def test_unexpected_names_warn_raise_or_ignore(tmp_path):
    folder = tmp_path / "ALL_IDB2" / "img"
    make_idb2(folder)
    _write(str(folder / "Im005_2.tif"), _image(5))  # label 2 does not exist
    _write(str(folder / "Im006_1 (copy).tif"), _image(6))
    (folder / "Thumbs.db").write_bytes(b"\0")  # not an image: ignored
    (tmp_path / "ALL_IDB2" / "readme.txt").write_text("ALL-IDB2 images are .jpg")
    with pytest.warns(UserWarning, match="2 image file.*Im005_2.tif"):
        data = load(tmp_path)
    _check_idb2(data)  # never labelled: skipped
    with pytest.raises(ValueError, match="do not follow the ImXXX_Y naming"):
        load(tmp_path, on_unexpected="raise")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*ImXXX_Y naming")
        _check_idb2(load(tmp_path, on_unexpected="ignore"))


def test_empty_folder_error_lists_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match="ALL_IDB2/img/ImXXX_Y.tif") as info:
        load_all_idb(tmp_path)
    assert "ALL_IDB2/ALL_IDB2/img" in str(info.value)
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="other names found: 'x.png'"):
        load_all_idb(tmp_path)
    with pytest.raises(FileNotFoundError, match="ALL_IDB1/im/ImXXX_Y.jpg"):
        load_all_idb(tmp_path, subset="ALL_IDB1", return_images=False)


def test_bad_paths_and_parameters(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_all_idb(tmp_path / "nope")
    (tmp_path / "file.tif").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        load_all_idb(tmp_path / "file.tif")
    with pytest.raises(ValueError, match="subset"):
        load_all_idb(tmp_path, subset="ALL_IDB3")
    with pytest.raises(ValueError, match="size"):
        load_all_idb(tmp_path, size=-1)
    with pytest.raises(ValueError, match="on_unexpected"):
        load_all_idb(tmp_path, on_unexpected="skip")
    with pytest.raises(ValueError, match="pad_mode"):
        load_all_idb(tmp_path, pad_mode="wrap")
    with pytest.raises(TypeError):
        load_all_idb(3)


def test_subset_name_is_normalised(tmp_path):
    make_idb2(tmp_path / "ALL-IDB2" / "img")
    _check_idb2(load(tmp_path, subset="all-idb2"))


def test_corrupt_image_names_the_file(tmp_path):
    folder = tmp_path / "ALL_IDB2" / "img"
    make_idb2(folder)
    (folder / "Im002_1.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(ImageReadError, match="Im002_1.tif"):
        load(tmp_path)
    # File names alone do not read pixels.
    assert len(load(tmp_path, return_images=False).filenames) == 5


def test_identical_copies_in_two_places_are_used_once(tmp_path):
    make_idb2(tmp_path / "ALL_IDB2" / "img")
    make_idb2(tmp_path / "ALL_IDB2" / "ALL_IDB2" / "img")
    with pytest.warns(UserWarning, match="5 ALL_IDB2 file.*identical content"):
        data = load(tmp_path, return_images=False)
    _check_idb2(data)
    # The copy nearest the top is used.
    assert all(f.count("ALL_IDB2") == 1 for f in data.filenames)
    assert "identical copies" in data.DESCR


def test_differing_copies_or_labels_of_one_number_raise(tmp_path):
    make_idb2(tmp_path / "a" / "ALL_IDB2")
    _write(str(tmp_path / "a" / "ALL_IDB2" / "sub" / "Im001_1.tif"), _image(99))
    with pytest.raises(ValueError, match="001 appears in 2 places with different"):
        load(tmp_path / "a")
    make_idb2(tmp_path / "b" / "ALL_IDB2")
    _write(str(tmp_path / "b" / "ALL_IDB2" / "sub" / "Im001_0.tif"), _image(1))
    with pytest.raises(ValueError, match="different labels"):
        load(tmp_path / "b")


def test_duplicate_pair_is_grouped(tmp_path):
    folder = tmp_path / "ALL_IDB2" / "img"
    entries = [(1, 1), (2, 1), (3, 1), (131, 0), (132, 0)]
    make_idb2(folder, entries)
    # Im132 is an exact copy of Im002 (as in the real data set).
    _write(str(folder / "Im132_0.tif"), _image(2))
    data = load(tmp_path)
    groups = find_duplicate_groups(data.images)
    np.testing.assert_array_equal(groups, [0, 1, 2, 3, 1])


def test_folder_without_subset_name(tmp_path):
    make_idb2(tmp_path / "mydata" / "img")
    with pytest.warns(UserWarning, match="partial"):
        data = load_all_idb(tmp_path / "mydata")
    _check_idb2(data)
    assert "No folder named ALL_IDB2 found" in data.DESCR


# ---------------------------------------------------------------- ALL_IDB1

IDB1 = [
    (1, 1, [(10, 5), (30, 20)]),  # x, y
    (2, 1, [(0, 29)]),
    (40, 0, []),
    (41, 0, []),
]


def test_idb1_requires_size_for_images(tmp_path):
    make_idb1(tmp_path / "ALL_IDB1", IDB1)
    with pytest.raises(ValueError, match="pass size="):
        load_all_idb(tmp_path, subset="ALL_IDB1")


@pytest.mark.parametrize("start", ["", "ALL_IDB1", "ALL_IDB1/im"])
def test_idb1_centroids_are_row_col(tmp_path, start):
    make_idb1(tmp_path / "ALL_IDB1", IDB1)
    data = load(tmp_path / start, subset="ALL_IDB1", return_images=False)
    assert [os.path.basename(f) for f in data.filenames] == [
        "Im001_1.jpg",
        "Im002_1.jpg",
        "Im040_0.jpg",
        "Im041_0.jpg",
    ]
    np.testing.assert_array_equal(data.target, [1, 1, 0, 0])
    np.testing.assert_array_equal(data.centroids[0], [[5, 10], [20, 30]])
    np.testing.assert_array_equal(data.centroids[1], [[29, 0]])
    assert data.centroids[2].shape == (0, 2) and data.centroids[3].shape == (0, 2)
    assert data.centroids[0].dtype == np.float64
    assert "3 blast centroids" in data.DESCR
    assert "images" not in data


def test_idb1_nested_layout_and_resized_images(tmp_path):
    sizes = [(30, 40), (24, 32), (40, 30), (16, 30)]  # aspect ratios differ
    make_idb1(tmp_path / "ALL_IDB1" / "ALL_IDB1", IDB1, sizes=sizes)
    data = load(tmp_path, subset="ALL_IDB1", size=16)
    assert data.images.shape == (4, 16, 16, 3) and data.images.dtype == np.uint8
    # Centroids stay in pixels of the original smear.
    np.testing.assert_array_equal(data.centroids[0], [[5, 10], [20, 30]])


def test_idb1_missing_xyc(tmp_path):
    entries = [(1, 1, None), (2, 1, [(3, 4)]), (40, 0, None), (41, 0, [])]
    make_idb1(tmp_path / "ALL_IDB1", entries)
    with pytest.warns(UserWarning, match=r"for 1 ALL_IDB1 image.*Im001_1.jpg") as rec:
        data = load(tmp_path, subset="ALL_IDB1", return_images=False)
    assert len([w for w in rec if "xyc" in str(w.message)]) == 1  # not for Y=0
    assert data.centroids[0] is None
    np.testing.assert_array_equal(data.centroids[1], [[4, 3]])
    assert data.centroids[2].shape == (0, 2)
    assert "1 ALL smears have no .xyc file" in data.DESCR
    assert "1 healthy smears have no .xyc file" in data.DESCR


def test_idb1_xyc_formats_and_errors(tmp_path):
    root = tmp_path / "ALL_IDB1"
    make_idb1(root, [(1, 1, []), (2, 0, [])])
    (root / "xyc" / "Im001_1.xyc").write_bytes(b"12 34\r\n\r\n  56\t78  \r\n")
    data = load(tmp_path, subset="ALL_IDB1", return_images=False)
    np.testing.assert_array_equal(data.centroids[0], [[34, 12], [78, 56]])
    (root / "xyc" / "Im001_1.xyc").write_text("12\t34\n56\n")
    with pytest.raises(ValueError, match=r"Im001_1.xyc.*line 2"):
        load(tmp_path, subset="ALL_IDB1", return_images=False)
    (root / "xyc" / "Im001_1.xyc").write_text("a\tb\n")
    with pytest.raises(ValueError, match=r"Im001_1.xyc.*line 1"):
        load(tmp_path, subset="ALL_IDB1", return_images=False)
    (root / "xyc" / "Im001_1.xyc").write_text("-3\t4\n")
    with pytest.raises(ValueError, match="non-negative"):
        load(tmp_path, subset="ALL_IDB1", return_images=False)


def test_idb1_healthy_xyc_with_centroids_warns(tmp_path):
    make_idb1(tmp_path / "ALL_IDB1", [(1, 1, [(1, 2)]), (2, 0, [(3, 4)])])
    with pytest.warns(UserWarning, match="healthy"):
        data = load(tmp_path, subset="ALL_IDB1", return_images=False)
    np.testing.assert_array_equal(data.centroids[1], [[4, 3]])


def test_idb2_request_on_unnamed_idb1_files_warns(tmp_path):
    make_idb1(tmp_path / "stuff", [(1, 1, [(1, 2)]), (2, 0, [])])
    with pytest.warns(UserWarning, match="like ALL_IDB1"):
        load(tmp_path / "stuff", return_images=False)
