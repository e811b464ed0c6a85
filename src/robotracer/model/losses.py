"""RoboTracer's SFT loss: ``L = L_ntp + α·‖log ŝ − stopgrad(log s*)‖²`` (α = 0.1)."""

from __future__ import annotations

import torch


def scale_loss(log_scale_pred: torch.Tensor, scale_target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``(log ŝ − sg(log s*))²``.

    Args:
        log_scale_pred: ``(B,)`` the scale decoder's ``log ŝ``.
        scale_target: ``(B,)`` ground-truth metric scale factors ``s*`` (must be > 0).
    """
    target = scale_target.detach().to(torch.float32)
    if bool((target <= 0).any()):
        raise ValueError("scale targets must be positive metric scale factors")
    return torch.mean((log_scale_pred.to(torch.float32) - torch.log(target)) ** 2)


def sft_loss(ntp_loss: torch.Tensor, log_scale_pred: torch.Tensor, scale_target: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    """``L_ntp + α·L_scale``."""
    return ntp_loss + alpha * scale_loss(log_scale_pred, scale_target)
