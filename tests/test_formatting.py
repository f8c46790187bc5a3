"""Tests for plugrad.formatting.tensor_repr.

Every expected string below was produced once by torch 2.13.0 (default print
options, default dtype float64 so the values are exact); the tests themselves
do not need torch.  Where a case passes a ``dtype=plugrad...`` suffix, the
expectation comes from torch's own suffix-placement routine fed that string,
because the plugrad dtype name is longer than torch's and may wrap elsewhere.
"""

from __future__ import annotations

import ast
import math
import random

import pytest
from plugrad.formatting import tensor_repr

nan = float("nan")
inf = float("inf")

CASES = [
    pytest.param(
        2.0,
        (),
        "float",
        [],
        "tensor(2.)",
        id="scalar_int_valued_float",
    ),
    pytest.param(
        3.14159,
        (),
        "float",
        [],
        "tensor(3.1416)",
        id="scalar_decimal",
    ),
    pytest.param(
        -0.0,
        (),
        "float",
        [],
        "tensor(-0.)",
        id="scalar_negative_zero",
    ),
    pytest.param(
        nan,
        (),
        "float",
        [],
        "tensor(nan)",
        id="scalar_nan",
    ),
    pytest.param(
        1e-05,
        (),
        "float",
        [],
        "tensor(1.0000e-05)",
        id="scalar_small_sci",
    ),
    pytest.param(
        123456789.0,
        (),
        "float",
        [],
        "tensor(1.2346e+08)",
        id="scalar_large_sci",
    ),
    pytest.param(
        5,
        (),
        "int",
        [],
        "tensor(5)",
        id="scalar_int",
    ),
    pytest.param(
        True,
        (),
        "bool",
        [],
        "tensor(True)",
        id="scalar_bool",
    ),
    pytest.param(
        [4.0, 6.0],
        (2,),
        "float",
        [],
        "tensor([4., 6.])",
        id="vec_int_valued",
    ),
    pytest.param(
        [0.1, 2.5],
        (2,),
        "float",
        [],
        "tensor([0.1000, 2.5000])",
        id="vec_decimals",
    ),
    pytest.param(
        [1e-05, 1000.0],
        (2,),
        "float",
        [],
        "tensor([1.0000e-05, 1.0000e+03])",
        id="vec_sci_ratio",
    ),
    pytest.param(
        [1.0, 2e8],
        (2,),
        "float",
        [],
        "tensor([1.0000e+00, 2.0000e+08])",
        id="vec_sci_big",
    ),
    pytest.param(
        [3e-05, 5e-05],
        (2,),
        "float",
        [],
        "tensor([3.0000e-05, 5.0000e-05])",
        id="vec_sci_tiny_only",
    ),
    pytest.param(
        [nan, inf, -inf, 1.5],
        (4,),
        "float",
        [],
        "tensor([   nan,    inf,   -inf, 1.5000])",
        id="vec_nan_inf",
    ),
    pytest.param(
        [nan, -inf, 2.0, 10.0],
        (4,),
        "float",
        [],
        "tensor([nan, -inf,  2., 10.])",
        id="vec_nan_inf_ints",
    ),
    pytest.param(
        [nan, inf],
        (2,),
        "float",
        [],
        "tensor([nan, inf])",
        id="vec_all_nonfinite",
    ),
    pytest.param(
        [0.0, -0.0, 0.0],
        (3,),
        "float",
        [],
        "tensor([0., -0., 0.])",
        id="vec_zeros",
    ),
    pytest.param(
        [-0.0, 1.0],
        (2,),
        "float",
        [],
        "tensor([-0., 1.])",
        id="vec_negative_zero_with_ints",
    ),
    pytest.param(
        [-1.5, 22.25, -333.125],
        (3,),
        "float",
        [],
        "tensor([  -1.5000,   22.2500, -333.1250])",
        id="vec_negatives_aligned",
    ),
    pytest.param(
        [0.00005, 0.12345, 0.99999],
        (3,),
        "float",
        [],
        "tensor([5.0000e-05, 1.2345e-01, 9.9999e-01])",
        id="vec_rounding",
    ),
    pytest.param(
        [1, 2],
        (2,),
        "int",
        [],
        "tensor([1, 2])",
        id="vec_ints",
    ),
    pytest.param(
        [-100, 5, 42],
        (3,),
        "int",
        [],
        "tensor([-100,    5,   42])",
        id="vec_ints_negative",
    ),
    pytest.param(
        [9223372036854775807, -9223372036854775808],
        (2,),
        "int",
        [],
        "tensor([ 9223372036854775807, -9223372036854775808])",
        id="vec_int64_extremes",
    ),
    pytest.param(
        [True, False],
        (2,),
        "bool",
        [],
        "tensor([ True, False])",
        id="vec_bools",
    ),
    pytest.param(
        [7.25],
        (1,),
        "float",
        [],
        "tensor([7.2500])",
        id="vec_single",
    ),
    pytest.param(
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        (2, 3),
        "float",
        [],
        "tensor([[1., 2., 3.],\n        [4., 5., 6.]])",
        id="mat_ints_as_float",
    ),
    pytest.param(
        [[1.5, -2.25], [30.125, 0.0]],
        (2, 2),
        "float",
        [],
        "tensor([[ 1.5000, -2.2500],\n        [30.1250,  0.0000]])",
        id="mat_decimals",
    ),
    pytest.param(
        [[1e-06, 2.0], [3.0, 40000.0]],
        (2, 2),
        "float",
        [],
        "tensor([[1.0000e-06, 2.0000e+00],\n        [3.0000e+00, 4.0000e+04]])",
        id="mat_sci",
    ),
    pytest.param(
        [[1, -2], [30, 4]],
        (2, 2),
        "int",
        [],
        "tensor([[ 1, -2],\n        [30,  4]])",
        id="mat_int",
    ),
    pytest.param(
        [[True, False, True], [False, False, True]],
        (2, 3),
        "bool",
        [],
        "tensor([[ True, False,  True],\n        [False, False,  True]])",
        id="mat_bool",
    ),
    pytest.param(
        [[0.5, 0.25, 0.125]],
        (1, 3),
        "float",
        [],
        "tensor([[0.5000, 0.2500, 0.1250]])",
        id="mat_one_row",
    ),
    pytest.param(
        [[1], [22], [333]],
        (3, 1),
        "int",
        [],
        "tensor([[  1],\n        [ 22],\n        [333]])",
        id="mat_one_col",
    ),
    pytest.param(
        [
            [[float(i * 6 + j * 3 + k) / 4 for k in range(3)] for j in range(2)]
            for i in range(2)
        ],
        (2, 2, 3),
        "float",
        [],
        (
            "tensor([[[0.0000, 0.2500, 0.5000],\n"
            "         [0.7500, 1.0000, 1.2500]],\n"
            "\n"
            "        [[1.5000, 1.7500, 2.0000],\n"
            "         [2.2500, 2.5000, 2.7500]]])"
        ),
        id="cube",
    ),
    pytest.param(
        [[[i * 4 + j * 2 + k for k in range(2)] for j in range(2)] for i in range(3)],
        (3, 2, 2),
        "int",
        [],
        (
            "tensor([[[ 0,  1],\n"
            "         [ 2,  3]],\n"
            "\n"
            "        [[ 4,  5],\n"
            "         [ 6,  7]],\n"
            "\n"
            "        [[ 8,  9],\n"
            "         [10, 11]]])"
        ),
        id="cube_int",
    ),
    pytest.param(
        [
            [
                [[a * 8 + b * 4 + c * 2 + d for d in range(2)] for c in range(2)]
                for b in range(2)
            ]
            for a in range(2)
        ],
        (2, 2, 2, 2),
        "int",
        [],
        (
            "tensor([[[[ 0,  1],\n"
            "          [ 2,  3]],\n"
            "\n"
            "         [[ 4,  5],\n"
            "          [ 6,  7]]],\n"
            "\n"
            "\n"
            "        [[[ 8,  9],\n"
            "          [10, 11]],\n"
            "\n"
            "         [[12, 13],\n"
            "          [14, 15]]]])"
        ),
        id="four_d",
    ),
    pytest.param(
        [],
        (0,),
        "float",
        [],
        "tensor([])",
        id="empty_1d",
    ),
    pytest.param(
        [],
        (0, 3),
        "float",
        [],
        "tensor([], size=(0, 3))",
        id="empty_2d",
    ),
    pytest.param(
        [[], []],
        (2, 0, 4),
        "float",
        [],
        "tensor([], size=(2, 0, 4))",
        id="empty_3d",
    ),
    pytest.param(
        [],
        (0,),
        "int",
        ["dtype=plugrad.int64"],
        "tensor([], dtype=plugrad.int64)",
        id="empty_int_with_dtype",
    ),
    pytest.param(
        [[], []],
        (2, 0),
        "bool",
        ["dtype=plugrad.bool"],
        "tensor([], size=(2, 0), dtype=plugrad.bool)",
        id="empty_2d_with_dtype",
    ),
    pytest.param(
        [i * 1.5 for i in range(30)],
        (30,),
        "float",
        [],
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
            "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])"
        ),
        id="wide_vector_wraps",
    ),
    pytest.param(
        [i * 37 for i in range(40)],
        (40,),
        "int",
        [],
        (
            "tensor([   0,   37,   74,  111,  148,  185,  222,  259,  296,  333,  370,  407,\n"
            "         444,  481,  518,  555,  592,  629,  666,  703,  740,  777,  814,  851,\n"
            "         888,  925,  962,  999, 1036, 1073, 1110, 1147, 1184, 1221, 1258, 1295,\n"
            "        1332, 1369, 1406, 1443])"
        ),
        id="wide_int_vector_wraps",
    ),
    pytest.param(
        [[r * 100 + c + 0.5 for c in range(14)] for r in range(3)],
        (3, 14),
        "float",
        [],
        (
            "tensor([[  0.5000,   1.5000,   2.5000,   3.5000,   4.5000,   5.5000,   6.5000,\n"
            "           7.5000,   8.5000,   9.5000,  10.5000,  11.5000,  12.5000,  13.5000],\n"
            "        [100.5000, 101.5000, 102.5000, 103.5000, 104.5000, 105.5000, 106.5000,\n"
            "         107.5000, 108.5000, 109.5000, 110.5000, 111.5000, 112.5000, 113.5000],\n"
            "        [200.5000, 201.5000, 202.5000, 203.5000, 204.5000, 205.5000, 206.5000,\n"
            "         207.5000, 208.5000, 209.5000, 210.5000, 211.5000, 212.5000, 213.5000]])"
        ),
        id="wide_matrix_wraps",
    ),
    pytest.param(
        [[[-(r * 1000.0 + c) for c in range(12)] for r in range(2)] for _ in range(2)],
        (2, 2, 12),
        "float",
        [],
        (
            "tensor([[[-0.0000e+00, -1.0000e+00, -2.0000e+00, -3.0000e+00, -4.0000e+00,\n"
            "          -5.0000e+00, -6.0000e+00, -7.0000e+00, -8.0000e+00, -9.0000e+00,\n"
            "          -1.0000e+01, -1.1000e+01],\n"
            "         [-1.0000e+03, -1.0010e+03, -1.0020e+03, -1.0030e+03, -1.0040e+03,\n"
            "          -1.0050e+03, -1.0060e+03, -1.0070e+03, -1.0080e+03, -1.0090e+03,\n"
            "          -1.0100e+03, -1.0110e+03]],\n"
            "\n"
            "        [[-0.0000e+00, -1.0000e+00, -2.0000e+00, -3.0000e+00, -4.0000e+00,\n"
            "          -5.0000e+00, -6.0000e+00, -7.0000e+00, -8.0000e+00, -9.0000e+00,\n"
            "          -1.0000e+01, -1.1000e+01],\n"
            "         [-1.0000e+03, -1.0010e+03, -1.0020e+03, -1.0030e+03, -1.0040e+03,\n"
            "          -1.0050e+03, -1.0060e+03, -1.0070e+03, -1.0080e+03, -1.0090e+03,\n"
            "          -1.0100e+03, -1.0110e+03]]])"
        ),
        id="wide_cube_wraps",
    ),
    pytest.param(
        [float(i) for i in range(2000)],
        (2000,),
        "float",
        [],
        (
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03])"
        ),
        id="summarized_vector",
    ),
    pytest.param(
        list(range(1001)),
        (1001,),
        "int",
        [],
        "tensor([   0,    1,    2,  ...,  998,  999, 1000])",
        id="summarized_int_vector",
    ),
    pytest.param(
        [[r + c / 100 for c in range(50)] for r in range(50)],
        (50, 50),
        "float",
        [],
        (
            "tensor([[0.0000e+00, 1.0000e-02, 2.0000e-02,  ..., 4.7000e-01, 4.8000e-01,\n"
            "         4.9000e-01],\n"
            "        [1.0000e+00, 1.0100e+00, 1.0200e+00,  ..., 1.4700e+00, 1.4800e+00,\n"
            "         1.4900e+00],\n"
            "        [2.0000e+00, 2.0100e+00, 2.0200e+00,  ..., 2.4700e+00, 2.4800e+00,\n"
            "         2.4900e+00],\n"
            "        ...,\n"
            "        [4.7000e+01, 4.7010e+01, 4.7020e+01,  ..., 4.7470e+01, 4.7480e+01,\n"
            "         4.7490e+01],\n"
            "        [4.8000e+01, 4.8010e+01, 4.8020e+01,  ..., 4.8470e+01, 4.8480e+01,\n"
            "         4.8490e+01],\n"
            "        [4.9000e+01, 4.9010e+01, 4.9020e+01,  ..., 4.9470e+01, 4.9480e+01,\n"
            "         4.9490e+01]])"
        ),
        id="summarized_matrix",
    ),
    pytest.param(
        [[r * 3 + c for c in range(3)] for r in range(400)],
        (400, 3),
        "int",
        [],
        (
            "tensor([[   0,    1,    2],\n"
            "        [   3,    4,    5],\n"
            "        [   6,    7,    8],\n"
            "        ...,\n"
            "        [1191, 1192, 1193],\n"
            "        [1194, 1195, 1196],\n"
            "        [1197, 1198, 1199]])"
        ),
        id="summarized_tall",
    ),
    pytest.param(
        [[c * 1e-3 for c in range(500)] for r in range(3)],
        (3, 500),
        "float",
        [],
        (
            "tensor([[0.0000, 0.0010, 0.0020,  ..., 0.4970, 0.4980, 0.4990],\n"
            "        [0.0000, 0.0010, 0.0020,  ..., 0.4970, 0.4980, 0.4990],\n"
            "        [0.0000, 0.0010, 0.0020,  ..., 0.4970, 0.4980, 0.4990]])"
        ),
        id="summarized_short_rows",
    ),
    pytest.param(
        [
            [[i * 100 + j * 10 + k for k in range(11)] for j in range(10)]
            for i in range(10)
        ],
        (10, 10, 11),
        "int",
        [],
        (
            "tensor([[[   0,    1,    2,  ...,    8,    9,   10],\n"
            "         [  10,   11,   12,  ...,   18,   19,   20],\n"
            "         [  20,   21,   22,  ...,   28,   29,   30],\n"
            "         ...,\n"
            "         [  70,   71,   72,  ...,   78,   79,   80],\n"
            "         [  80,   81,   82,  ...,   88,   89,   90],\n"
            "         [  90,   91,   92,  ...,   98,   99,  100]],\n"
            "\n"
            "        [[ 100,  101,  102,  ...,  108,  109,  110],\n"
            "         [ 110,  111,  112,  ...,  118,  119,  120],\n"
            "         [ 120,  121,  122,  ...,  128,  129,  130],\n"
            "         ...,\n"
            "         [ 170,  171,  172,  ...,  178,  179,  180],\n"
            "         [ 180,  181,  182,  ...,  188,  189,  190],\n"
            "         [ 190,  191,  192,  ...,  198,  199,  200]],\n"
            "\n"
            "        [[ 200,  201,  202,  ...,  208,  209,  210],\n"
            "         [ 210,  211,  212,  ...,  218,  219,  220],\n"
            "         [ 220,  221,  222,  ...,  228,  229,  230],\n"
            "         ...,\n"
            "         [ 270,  271,  272,  ...,  278,  279,  280],\n"
            "         [ 280,  281,  282,  ...,  288,  289,  290],\n"
            "         [ 290,  291,  292,  ...,  298,  299,  300]],\n"
            "\n"
            "        ...,\n"
            "\n"
            "        [[ 700,  701,  702,  ...,  708,  709,  710],\n"
            "         [ 710,  711,  712,  ...,  718,  719,  720],\n"
            "         [ 720,  721,  722,  ...,  728,  729,  730],\n"
            "         ...,\n"
            "         [ 770,  771,  772,  ...,  778,  779,  780],\n"
            "         [ 780,  781,  782,  ...,  788,  789,  790],\n"
            "         [ 790,  791,  792,  ...,  798,  799,  800]],\n"
            "\n"
            "        [[ 800,  801,  802,  ...,  808,  809,  810],\n"
            "         [ 810,  811,  812,  ...,  818,  819,  820],\n"
            "         [ 820,  821,  822,  ...,  828,  829,  830],\n"
            "         ...,\n"
            "         [ 870,  871,  872,  ...,  878,  879,  880],\n"
            "         [ 880,  881,  882,  ...,  888,  889,  890],\n"
            "         [ 890,  891,  892,  ...,  898,  899,  900]],\n"
            "\n"
            "        [[ 900,  901,  902,  ...,  908,  909,  910],\n"
            "         [ 910,  911,  912,  ...,  918,  919,  920],\n"
            "         [ 920,  921,  922,  ...,  928,  929,  930],\n"
            "         ...,\n"
            "         [ 970,  971,  972,  ...,  978,  979,  980],\n"
            "         [ 980,  981,  982,  ...,  988,  989,  990],\n"
            "         [ 990,  991,  992,  ...,  998,  999, 1000]]])"
        ),
        id="summarized_cube",
    ),
    pytest.param(
        [0.5] * 3 + [1e9] * 995 + [0.25] * 3,
        (1001,),
        "float",
        [],
        "tensor([0.5000, 0.5000, 0.5000,  ..., 0.2500, 0.2500, 0.2500])",
        id="summarized_hidden_sci_ignored",
    ),
    pytest.param(
        [[(r + c) % 3 == 0 for c in range(40)] for r in range(40)],
        (40, 40),
        "bool",
        [],
        (
            "tensor([[ True, False, False,  ..., False, False,  True],\n"
            "        [False, False,  True,  ..., False,  True, False],\n"
            "        [False,  True, False,  ...,  True, False, False],\n"
            "        ...,\n"
            "        [False, False,  True,  ..., False,  True, False],\n"
            "        [False,  True, False,  ...,  True, False, False],\n"
            "        [ True, False, False,  ..., False, False,  True]])"
        ),
        id="summarized_bool",
    ),
    pytest.param(
        [1.0, 2.0],
        (2,),
        "float",
        ["requires_grad=True"],
        "tensor([1., 2.], requires_grad=True)",
        id="suffix_requires_grad",
    ),
    pytest.param(
        2.5,
        (),
        "float",
        ["grad_fn=<MulBackward0>"],
        "tensor(2.5000, grad_fn=<MulBackward0>)",
        id="suffix_grad_fn",
    ),
    pytest.param(
        [0.5, 1.25],
        (2,),
        "float",
        ["dtype=plugrad.float32", "requires_grad=True"],
        "tensor([0.5000, 1.2500], dtype=plugrad.float32, requires_grad=True)",
        id="suffix_dtype_and_grad",
    ),
    pytest.param(
        [1, 2, 3],
        (3,),
        "int",
        ["dtype=plugrad.int32"],
        "tensor([1, 2, 3], dtype=plugrad.int32)",
        id="suffix_int_dtype",
    ),
    pytest.param(
        [i + 0.5 for i in range(7)],
        (7,),
        "float",
        ["dtype=plugrad.float32", "requires_grad=True"],
        (
            "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000],\n"
            "       dtype=plugrad.float32, requires_grad=True)"
        ),
        id="suffix_wraps_single_line",
    ),
    pytest.param(
        [i + 0.5 for i in range(6)],
        (6,),
        "float",
        ["dtype=plugrad.float16", "grad_fn=<AddBackward0>"],
        (
            "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000], dtype=plugrad.float16,\n"
            "       grad_fn=<AddBackward0>)"
        ),
        id="suffix_wraps_second_only",
    ),
    pytest.param(
        [[1.0, 2.0], [3.0, 4.0]],
        (2, 2),
        "float",
        ["requires_grad=True"],
        "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)",
        id="suffix_multiline_short",
    ),
    pytest.param(
        [i * 1.5 for i in range(30)],
        (30,),
        "float",
        ["dtype=plugrad.float64", "grad_fn=<MulBackward0>"],
        (
            "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
            "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n"
            "        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n"
            "        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000],\n"
            "       dtype=plugrad.float64, grad_fn=<MulBackward0>)"
        ),
        id="suffix_multiline_wraps",
    ),
    pytest.param(
        [float(i) for i in range(2000)],
        (2000,),
        "float",
        ["requires_grad=True"],
        (
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03], requires_grad=True)"
        ),
        id="suffix_summarized",
    ),
    pytest.param(
        [[[r * 10.0 + c for c in range(9)] for r in range(2)] for _ in range(2)],
        (2, 2, 9),
        "float",
        ["dtype=plugrad.float64", "grad_fn=<SumBackward0>"],
        (
            "tensor([[[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.],\n"
            "         [10., 11., 12., 13., 14., 15., 16., 17., 18.]],\n"
            "\n"
            "        [[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.],\n"
            "         [10., 11., 12., 13., 14., 15., 16., 17., 18.]]],\n"
            "       dtype=plugrad.float64, grad_fn=<SumBackward0>)"
        ),
        id="suffix_cube_wraps",
    ),
]


@pytest.mark.parametrize("values, shape, kind, suffixes, expected", CASES)
def test_matches_torch_repr(values, shape, kind, suffixes, expected):
    assert tensor_repr(values, shape, kind, suffixes) == expected


def test_default_suffixes_empty():
    assert tensor_repr([1.5, 2.0], (2,), "float") == "tensor([1.5000, 2.0000])"


def test_size_suffix_not_duplicated():
    got = tensor_repr([], (0, 3), "float", ["size=(0, 3)", "requires_grad=True"])
    assert got == "tensor([], size=(0, 3), requires_grad=True)"


def test_caller_suffix_list_not_mutated():
    suffixes = ["requires_grad=True"]
    tensor_repr([], (0, 2), "float", suffixes)
    assert suffixes == ["requires_grad=True"]


def test_unknown_kind_rejected():
    with pytest.raises(ValueError):
        tensor_repr([1], (1,), "complex")


def test_module_imports_only_stdlib():
    import plugrad.formatting as module

    with open(module.__file__, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "collections", "dataclasses", "math", "typing"}


# --- randomised comparison against the real torch (skipped without torch) ---


def _torch_suffixes(torch, t) -> list[str]:
    """The suffixes torch's repr adds for a dense CPU tensor."""
    suffixes = []
    if t.numel() == 0:
        # An empty tensor has no values to hint at its dtype.
        show_dtype = t.dtype != torch.get_default_dtype()
    else:
        show_dtype = t.dtype not in (torch.get_default_dtype(), torch.int64, torch.bool)
    if show_dtype:
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return suffixes


def _random_floats(rng: random.Random, n: int) -> list[float]:
    magnitude = 10 ** rng.uniform(-9, 11)
    integer_valued = rng.random() < 0.25
    values = []
    for _ in range(n):
        if integer_valued:
            value = float(rng.randint(-50, 50) * rng.choice([1, 1000]))
        else:
            value = rng.gauss(0, 1) * magnitude
        roll = rng.random()
        if roll < 0.03:
            value = nan
        elif roll < 0.05:
            value = rng.choice([inf, -inf])
        elif roll < 0.08:
            value = rng.choice([0.0, -0.0])
        values.append(value)
    return values


def _random_tensor(torch, rng: random.Random):
    ndim = rng.choice([0, 1, 1, 2, 2, 3])
    large = rng.random() < 0.15  # large enough to be summarised sometimes
    shape = tuple(
        rng.randint(0 if rng.random() < 0.05 else 1, 14 if large else 7)
        for _ in range(ndim)
    )
    if large and ndim == 1:
        shape = (rng.randint(900, 2500),)
    n = math.prod(shape)
    kind = rng.choice(["float"] * 4 + ["int", "bool"])
    if kind == "float":
        dtype = rng.choice([torch.float32, torch.float32, torch.float64, torch.float16])
        t = torch.tensor(_random_floats(rng, n), dtype=dtype).reshape(shape)
        if rng.random() < 0.3:
            t.requires_grad_()
            if rng.random() < 0.4:
                t = t * 1
    elif kind == "int":
        bound = rng.choice([1, 9, 100, 10**6, 2**62])
        dtype = torch.int32 if bound < 2**31 and rng.random() < 0.3 else torch.int64
        t = torch.tensor([rng.randint(-bound, bound) for _ in range(n)], dtype=dtype)
        t = t.reshape(shape)
    else:
        t = torch.tensor([rng.random() < 0.5 for _ in range(n)]).reshape(shape)
    return t, kind


def test_random_tensors_match_torch():
    torch = pytest.importorskip("torch")
    rng = random.Random(20240601)
    for _ in range(400):
        t, kind = _random_tensor(torch, rng)
        # Suffixes keep torch's dtype names here: the wrap decision depends on
        # suffix length, so renaming to plugrad.* would only compare torch
        # against itself with different strings.
        suffixes = _torch_suffixes(torch, t)
        got = tensor_repr(t.tolist(), tuple(t.shape), kind, suffixes)
        assert got == repr(t), (tuple(t.shape), t.dtype)
