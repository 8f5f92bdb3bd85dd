import Tenanted
