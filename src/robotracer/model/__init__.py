"""The RoboTracer model (torch + transformers): configuration, modeling, processor, prompts, losses, rewards.

Heavy imports stay in the submodules; ``robotracer.model.prompts`` and ``robotracer.model.rewards``
need neither torch nor transformers.
"""
