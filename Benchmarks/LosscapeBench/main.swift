import Tensor
print("{}")
