#include "vmm/target.h"

#include <string.h>

const TargetDesc *target_find(const char *arch)
{
    for (int i = 0; tandem_targets[i]; i++)
        if (!strcmp(tandem_targets[i]->arch, arch))
            return tandem_targets[i];
    return NULL;
}

const BoardDesc *target_board(const TargetDesc *t, const char *name)
{
    if (!name)
        return t->boards[0];
    for (int i = 0; t->boards[i]; i++)
        if (!strcmp(t->boards[i]->name, name))
            return t->boards[i];
    return NULL;
}
