"""The embedded local AWS: moto as control plane and storage, plus what moto lacks."""
