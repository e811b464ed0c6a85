"""Tiling, token merging, projector layout, prompts, chat template and spatial inputs."""

import numpy as np
import pytest
import torch

from robotracer.geometry.camera import Intrinsics
from robotracer.model.processing import chat_prompt, dynamic_tiles, ray_directions, tile_grid
from robotracer.model.projector import MultimodalProjector, TokenMerge
from robotracer.model.prompts import trace_prompt


def test_prompts_are_the_official_ones():
    assert trace_prompt("put the cup left of the plate") == (
        'Point the 3D object-centric visual trace for the task "put the cup left of the plate". Your answer should be '
        "formatted as a list of tuples, i.e., [(x1, y1, d1), (x2, y2, d2), ...], where each tuple contains the x and y "
        "coordinates of the point, and d is the depth of the point."
    )
    assert trace_prompt("move it", "2d") == (
        'Point the 2D object-centric visual trace for the task "move it". Your answer should be formatted as a list of '
        "tuples, i.e., [(x1, y1), (x2, y2), ...], where each tuple contains the x and y coordinates of the point."
    )
    with pytest.raises(ValueError, match="valid: 3d, 2d"):
        trace_prompt("x", "4d")


def test_chat_template_is_nvila_qwen2():
    assert chat_prompt(" hi ") == (
        "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


@pytest.mark.parametrize(
    "size, grid", [((640, 480), (4, 3)), ((448, 448), (1, 1)), ((1000, 200), (5, 1)), ((480, 640), (3, 4)), ((900, 448), (2, 1))]
)
def test_dynamic_tiling_grid(size, grid):
    assert tile_grid(*size, 1, 12, 448) == grid


def test_dynamic_tiles_row_major_with_thumbnail():
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, 320:] = 255  # right half white
    from PIL import Image

    tiles = dynamic_tiles(Image.fromarray(img), 1, 12, 448)
    assert len(tiles) == 13 and all(t.size == (448, 448) for t in tiles)
    means = [np.asarray(t).mean() for t in tiles[:12]]
    assert means[0] == 0 and means[3] == 255 and means[4] == 0  # row-major: tile 3 is the top-right
    assert 100 < np.asarray(tiles[12]).mean() < 155  # thumbnail sees both halves
    assert len(dynamic_tiles(Image.fromarray(img[:448, :448]), 1, 12, 448)) == 1


def test_token_merge_order_and_padding():
    x = torch.arange(16, dtype=torch.float32).reshape(1, 16, 1)  # 4x4 grid, value = index
    m2 = TokenMerge(2)(x)
    assert m2.shape == (1, 4, 4)
    assert m2[0, 0].tolist() == [0, 1, 4, 5] and m2[0, 1].tolist() == [2, 3, 6, 7]
    m3 = TokenMerge(3)(x)  # padded to 6x6: 2x2 blocks of 9
    assert m3.shape == (1, 4, 9)
    assert m3[0, 0].tolist() == [0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert m3[0, 3].tolist() == [15, 0, 0, 0, 0, 0, 0, 0, 0]
    xc = torch.randn(1, 4, 2)
    assert torch.equal(TokenMerge(2)(xc)[0, 0], xc[0].reshape(-1))  # channels fastest


def test_2b_projector_layers_match_nvila_lite():
    proj = MultimodalProjector("mlp_downsample_3x3_fix", 1152, 1536)
    shapes = {k: tuple(v.shape) for k, v in proj.state_dict().items()}
    assert shapes["layers.1.weight"] == (10368,)
    assert shapes["layers.2.weight"] == (3456, 10368)
    assert shapes["layers.4.weight"] == (3456,)
    assert shapes["layers.5.weight"] == (1536, 3456)
    assert shapes["layers.7.weight"] == (1536, 1536)
    assert proj.tokens_per_tile(1024) == 121
    assert MultimodalProjector("mlp_downsample", 3456, 64).tokens_per_tile(1024) == 256
    with pytest.raises(ValueError, match="valid: mlp_downsample_3x3_fix"):
        MultimodalProjector("mlp_4x4", 8, 8)


def test_ray_directions_and_depth_along_ray(processor, frame):
    K = Intrinsics(100.0, 100.0, 49.5, 49.5, 100, 100)
    rays = ray_directions(K, 100, 100)
    assert np.allclose(np.linalg.norm(rays, axis=-1), 1.0)
    assert np.allclose(rays[49:51, 49:51].mean(axis=(0, 1)), [0, 0, 1], atol=1e-3)
    assert rays[0, 0, 0] < 0 and rays[0, 0, 1] < 0  # top-left looks left and up
    rgb, depth, K = frame
    out = processor(rgb, "x", "rgb+intrinsics+depth", intrinsics=K, depth=np.full_like(depth, 2.0))
    along, rz = out["depth_along_ray"][0, 0].numpy(), out["ray_directions"][0, 2].numpy()
    assert np.allclose(along * rz, 2.0, atol=1e-5)  # z = depth along the ray x cos


def test_training_labels_mask_the_prompt(processor, frame):
    rgb, depth, K = frame
    out = processor(rgb, "x", "rgb", answer="[(1, 2, 0.5), (3, 4, 0.6)]")
    labels, ids = out["labels"][0], out["input_ids"][0]
    n = int((labels != -100).sum())
    assert n > 0 and torch.equal(labels[-n:], ids[-n:])
    assert processor.decode(ids[-n:]) == "[(1, 2, 0.5), (3, 4, 0.6)]"
