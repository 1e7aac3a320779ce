# SPDX-License-Identifier: GPL-2.0-or-later
# TL_CHECK_CFLAG(FLAG, ACTION-IF-OK, ACTION-IF-NOT)
# Compile an empty program with FLAG (and -Werror so that unknown warning
# options are noticed) and run the matching action.
AC_DEFUN([TL_CHECK_CFLAG], [
	AS_VAR_PUSHDEF([tl_var], [tl_cv_cflag_$1])
	AC_CACHE_CHECK([whether $CC accepts $1], [tl_var], [
		tl_save_cflags="$CFLAGS"
		CFLAGS="$CFLAGS -Werror $1"
		AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
			[AS_VAR_SET([tl_var], [yes])], [AS_VAR_SET([tl_var], [no])])
		CFLAGS="$tl_save_cflags"])
	AS_VAR_IF([tl_var], [yes], [$2], [$3])
	AS_VAR_POPDEF([tl_var])
])

# TL_CHECK_FORTIFY
# Set tl_fortify to the _FORTIFY_SOURCE level to add (3, else 2) and add
# -D_FORTIFY_SOURCE=N to HARDEN_CPPFLAGS; or to "already set" when
# CPPFLAGS, CFLAGS or the compiler itself define it (Debian's
# dpkg-buildflags does), since redefining it is a warning and overrides
# the builder's choice; or to "no" when no level compiles cleanly with
# CFLAGS (glibc warns without optimisation, at -O0) or glibc does not
# take it up to that level (3 needs gcc 12 or clang 9, or glibc makes it
# 2 without a word).
AC_DEFUN([TL_CHECK_FORTIFY], [
	AC_MSG_CHECKING([whether _FORTIFY_SOURCE is already defined])
	AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#ifdef _FORTIFY_SOURCE
#error already defined
#endif
]], [[]])],
		[AC_MSG_RESULT([no]); tl_fortify=no],
		[AC_MSG_RESULT([yes]); tl_fortify="already set"])
	AS_IF([test "x$tl_fortify" = xno], [
		tl_save_cppflags="$CPPFLAGS"
		tl_save_cflags="$CFLAGS"
		for tl_level in 3 2; do
			AC_MSG_CHECKING([for -D_FORTIFY_SOURCE=$tl_level with $CFLAGS])
			CPPFLAGS="$tl_save_cppflags -D_FORTIFY_SOURCE=$tl_level"
			CFLAGS="$tl_save_cflags -Werror"
			AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include <string.h>
#if defined __GLIBC__ && \
    (!defined __USE_FORTIFY_LEVEL || __USE_FORTIFY_LEVEL < $tl_level)
#error not at this level
#endif
]], [[]])], [AC_MSG_RESULT([yes]); tl_fortify=$tl_level],
				[AC_MSG_RESULT([no])])
			CPPFLAGS="$tl_save_cppflags"
			CFLAGS="$tl_save_cflags"
			test "x$tl_fortify" = xno || break
		done
		AS_IF([test "x$tl_fortify" != xno],
			[HARDEN_CPPFLAGS="-D_FORTIFY_SOURCE=$tl_fortify"])
	])
])
