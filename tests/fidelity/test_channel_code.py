"""The watermark's channel code: CRC-16, the rate-1/3 convolutional code and soft Viterbi."""

import numpy as np

from generec.fidelity.channel_code import CRC_BITS, ID_BITS, conv_encode, decode_id, message_bits, viterbi

WID = 0x5EC0DE42


def test_the_code_corrects_errors_and_the_crc_rejects_a_wrong_word():
    bits = message_bits(WID)
    assert len(bits) == ID_BITS + CRC_BITS and decode_id(bits) == WID
    coded = 2.0 * conv_encode(bits) - 1.0
    rng = np.random.default_rng(0)
    noisy = coded.copy()
    flip = rng.choice(len(noisy), 12, replace=False)  # 12 of 162 coded bits wrong
    noisy[flip] *= -1
    assert decode_id(viterbi(noisy, len(bits))) == WID
    wrong = bits.copy()
    wrong[3] ^= 1
    assert decode_id(wrong) is None
