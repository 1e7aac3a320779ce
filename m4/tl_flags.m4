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
