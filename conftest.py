pytest_plugins = ["jianguan.testing.fixtures"]
