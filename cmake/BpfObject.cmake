# SPDX-License-Identifier: GPL-2.0-only
# bpf_object(<name> <source.bpf.c> [DEPENDS headers...])
#   compiles <source.bpf.c> with clang -target bpf into <name>.bpf.o, generates the
#   libbpf skeleton <name>.skel.h with bpftool, and defines an INTERFACE target
#   <name>_skel whose include directory holds the skeleton.
# Model: libbpf-bootstrap tools/cmake/FindBpfObject.cmake.
find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin)
if(NOT BPF_CLANG)
	message(FATAL_ERROR "pseudopod needs clang to build its BPF programs: apt-get install clang")
endif()
if(NOT BPFTOOL)
	message(FATAL_ERROR "pseudopod needs bpftool to generate BPF skeletons: apt-get install bpftool")
endif()

execute_process(COMMAND uname -m OUTPUT_VARIABLE BPF_HOST_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
if(BPF_HOST_ARCH STREQUAL "x86_64")
	set(BPF_TARGET_ARCH x86)
elseif(BPF_HOST_ARCH STREQUAL "aarch64")
	set(BPF_TARGET_ARCH arm64)
else()
	set(BPF_TARGET_ARCH ${BPF_HOST_ARCH})
endif()

function(bpf_object name source)
	cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
	set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_skel)
	set(obj ${out_dir}/${name}.bpf.o)
	set(skel ${out_dir}/${name}.skel.h)
	add_custom_command(OUTPUT ${obj}
		COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
		COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
			-Wall -Werror -Wno-unused-function
			-iquote ${CMAKE_SOURCE_DIR} -iquote ${CMAKE_SOURCE_DIR}/bpf
			-I/usr/include/${BPF_HOST_ARCH}-linux-gnu
			-c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
		DEPENDS ${source} ${ARG_DEPENDS}
		IMPLICIT_DEPENDS C ${CMAKE_CURRENT_SOURCE_DIR}/${source}
		COMMENT "BPF ${source}")
	add_custom_command(OUTPUT ${skel}
		COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
		DEPENDS ${obj}
		COMMENT "skeleton ${name}.skel.h")
	add_custom_target(${name}_skel_gen DEPENDS ${skel})
	add_library(${name}_skel INTERFACE)
	target_include_directories(${name}_skel INTERFACE ${out_dir})
	target_link_libraries(${name}_skel INTERFACE dep::libbpf dep::libelf)
	add_dependencies(${name}_skel ${name}_skel_gen)
endfunction()
