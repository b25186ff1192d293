/*
 * A stand-in for libESMTP's libesmtp.h: the declarations of it whose names could meet those of
 * smtp_verdict.h (its include guard, the struct tags behind its handle types, struct
 * smtp_status and its typedef, the SMTP_ERR_, SMTP_EV_ and SMTP_CB_ constants), with
 * libESMTP's names and values. tests/c/libesmtp_test.c includes it next to smtp_verdict.h.
 */
#ifndef _libesmtp_h
#define _libesmtp_h

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smtp_session *smtp_session_t;
typedef struct smtp_message *smtp_message_t;
typedef struct smtp_recipient *smtp_recipient_t;

struct smtp_status {
    int code;
    char *text;
    int enh_class;
    int enh_subject;
    int enh_detail;
};
typedef struct smtp_status smtp_status_t;

typedef struct smtp_etrn_node *smtp_etrn_node_t;

enum {
    SMTP_EV_CONNECT,
    SMTP_EV_MAILSTATUS,
    SMTP_EV_RCPTSTATUS,
    SMTP_EV_MESSAGEDATA,
    SMTP_EV_MESSAGESENT,
    SMTP_EV_DISCONNECT,
    SMTP_EV_SYNTAXWARNING
};

const smtp_status_t *smtp_recipient_status(smtp_recipient_t recipient);
int smtp_errno(void);

#ifdef __cplusplus
}
#endif

#define SMTP_ERR_NOTHING_TO_DO 2
#define SMTP_ERR_DROPPED_CONNECTION 3
#define SMTP_ERR_INVALID_RESPONSE_SYNTAX 4
#define SMTP_ERR_STATUS_MISMATCH 5
#define SMTP_ERR_INVALID_RESPONSE_STATUS 6
#define SMTP_ERR_INVAL 7
#define SMTP_ERR_EXTENSION_NOT_AVAILABLE 8
#define SMTP_ERR_HOST_NOT_FOUND SMTP_ERR_EAI_ADDRFAMILY
#define SMTP_ERR_NO_ADDRESS SMTP_ERR_EAI_NODATA
#define SMTP_ERR_NO_RECOVERY SMTP_ERR_EAI_FAIL
#define SMTP_ERR_TRY_AGAIN SMTP_ERR_EAI_AGAIN
#define SMTP_ERR_EAI_AGAIN 12
#define SMTP_ERR_EAI_FAIL 11
#define SMTP_ERR_EAI_MEMORY 13
#define SMTP_ERR_EAI_ADDRFAMILY 9
#define SMTP_ERR_EAI_NODATA 10
#define SMTP_ERR_EAI_FAMILY 14
#define SMTP_ERR_EAI_BADFLAGS 15
#define SMTP_ERR_EAI_NONAME 16
#define SMTP_ERR_EAI_SERVICE 17
#define SMTP_ERR_EAI_SOCKTYPE 18
#define SMTP_ERR_UNTERMINATED_RESPONSE 19
#define SMTP_ERR_CLIENT_ERROR 20
#define SMTP_CB_READING 0
#define SMTP_CB_WRITING 1
#define SMTP_CB_HEADERS 2

#endif
