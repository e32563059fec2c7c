# Conan 2 recipe for keyspace, a header-only C++20 library. It packages the checkout it lives in
# (packaging/conan inside the keyspace tree):
#   conan create packaging/conan            # builds and runs test_package
#   conan create packaging/conan -o keyspace/*:simd=False
# Consumers get the same CMake names as with find_package after a CMake install: package keyspace, target
# keyspace::keyspace.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class KeyspaceConan(ConanFile):
    name = "keyspace"
    description = ("Header-only C++20 library for database benchmark tools: a lock-free atomic bitmap, prefix "
                   "trackers with composable iterators, exact key-access samplers")
    license = "BSD-3-Clause"
    topics = ("benchmark", "load-generator", "bitmap", "lock-free", "zipf", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"simd": [True, False]}
    default_options = {"simd": True}
    no_copy_source = True

    @property
    def _tree(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        config = load(self, os.path.join(self._tree, "include", "keyspace", "config.hpp"))
        self.version = re.search(r'#define KEYSPACE_VERSION_STRING "([^"]+)"', config).group(1)

    def export_sources(self):
        copy(self, "*.hpp", os.path.join(self._tree, "include"), os.path.join(self.export_sources_folder, "include"))
        copy(self, "LICENSE", self._tree, self.export_sources_folder)

    def layout(self):
        basic_layout(self)

    def requirements(self):
        if self.options.simd:
            # The SIMD kernels are written against xsimd 8.1 (Debian bookworm's), the version they are tested with.
            self.requires("xsimd/8.1.0", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "keyspace")
        self.cpp_info.set_property("cmake_target_name", "keyspace::keyspace")
        if not self.options.simd:
            self.cpp_info.defines = ["KEYSPACE_NO_SIMD"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
