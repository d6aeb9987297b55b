<?php
/**
 * Test site only: readers in the tests comment seconds apart, so WordPress's flood and
 * duplicate checks (one comment per 15 s per user) are switched off.
 */
add_filter( 'comment_flood_filter', '__return_false' );
add_filter( 'duplicate_comment_id', '__return_false' );
