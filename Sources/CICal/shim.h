// libical (Debian: libical-dev), to read the bookings calendar's iCalendar.
#include <libical/ical.h>
