/* Errors a user can cause travel up as GError with this domain; only main
 * decides to exit. */
#ifndef TANDEM_ERROR_H
#define TANDEM_ERROR_H

#include <glib.h>

#define TANDEM_ERROR (tandem_error_quark())
GQuark tandem_error_quark(void);

#define tn_error(err, ...) g_set_error((err), TANDEM_ERROR, 0, __VA_ARGS__)

#endif
